import CommlogDomain
import Foundation
import Integrations
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage

/// Holds the SMDR connections of every organisation's PBX, one replica per link.
///
/// Every few seconds it reads the enabled links and tries to lease those nobody holds. For each leased link it
/// connects, turns every record into call events, publishes them with confirms before reading on, and reconnects
/// when the PBX goes away; it gives the link up when it loses the lease (another replica took over after a stall).
final class SMDRSupervisor: Service, Sendable {
    struct Configuration: Sendable {
        var holder: String
        var lease: Duration = .seconds(30)
        var reconnect: Duration = .seconds(5)
        /// How often the links are read again (new links, disabled ones).
        var refresh: Duration = .seconds(5)
    }

    private let database: Database
    private let publisher: CallEventPublisher
    private let configuration: Configuration
    private let logger: Logger

    init(database: Database, publisher: CallEventPublisher, configuration: Configuration, logger: Logger) {
        self.database = database
        self.publisher = publisher
        self.configuration = configuration
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await LeaseSupervisor<SMDRLink, UUID>(refresh: self.configuration.refresh, id: \.id).run {
                try await self.links()
            } claim: { link in
                try await self.lease(for: link).acquire()
            } work: { link in
                let lease = self.lease(for: link)
                await self.hold(link, lease: lease)
                if !Task.isCancelled { await lease.release() }
            } failed: { error in
                self.logger.warning("could not read SMDR links", metadata: ["error": "\(error)"])
            }
        }
        // Outside the cancelled task: give the links up so that another replica connects at once.
        await releaseAll()
    }

    private func releaseAll() async {
        await Lease.releaseAll(prefix: "smdr:", holder: configuration.holder, database: database)
    }

    private func lease(for link: SMDRLink) -> Lease {
        Lease(name: "smdr:\(link.id.uuidString.lowercased())", holder: configuration.holder, duration: configuration.lease, database: database)
    }

    /// The enabled links of all organisations.
    func links() async throws -> [SMDRLink] {
        try await store.enabledLinks().map { link in
            SMDRLink(organisationID: link.organisationID, id: link.id, host: link.host, port: link.port,
                     layout: (try? JSONDecoder().decode(SMDRLayout.self, from: Data(link.layout.utf8))) ?? SMDRLayout(),
                     timeZone: TimeZone(identifier: link.timeZone) ?? .gmt)
        }
    }

    private var store: SMDRLinkStore { SMDRLinkStore(database: database, logger: logger) }

    /// Keeps one link connected while the lease is ours; returns when it is lost, the link is gone, or on cancellation.
    private func hold(_ link: SMDRLink, lease: Lease) async {
        var linkLogger = self.logger
        linkLogger[metadataKey: "smdr_link"] = "\(link.id)"
        linkLogger[metadataKey: "pbx"] = "\(link.host):\(link.port)"
        let logger = linkLogger
        while !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                // Renews the lease while connected; a lost lease ends the connection.
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.configuration.lease / 3)
                        if Task.isCancelled { return }
                        if (try? await lease.acquire()) == false {
                            logger.warning("SMDR lease lost to another replica")
                            return
                        }
                    }
                }
                group.addTask {
                    do {
                        try await SMDRConnection.read(host: link.host, port: link.port) {
                            logger.info("SMDR connected")
                            Counter(label: "commlog_smdr_connections_total", dimensions: [("outcome", "connected")]).increment()
                            await self.note(link, connected: true, error: nil)
                        } onLine: { line in
                            try await self.handle(line, from: link)
                        }
                        logger.info("SMDR connection closed by the PBX")
                    } catch {
                        if Task.isCancelled { return }
                        Counter(label: "commlog_smdr_connections_total", dimensions: [("outcome", "failed")]).increment()
                        logger.warning("SMDR connection failed", metadata: ["error": "\(error)"])
                        await self.note(link, connected: false, error: "\(error)")
                    }
                }
                // Whichever ends first (connection closed, lease lost) ends both.
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled { return }
            try? await Task.sleep(for: configuration.reconnect)
            guard (try? await lease.acquire()) == true, (try? await links().contains(link)) != false else { return }
        }
    }

    /// Publishes the events of one line (with confirms: the next line is read only after), or counts it as skipped.
    func handle(_ line: String, from link: SMDRLink) async throws {
        guard !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        guard let record = SMDRRecord(line: line, layout: link.layout), let start = record.start(in: link.timeZone) else {
            Counter(label: "commlog_smdr_lines_skipped_total").increment()
            await count(link, skipped: true)
            return
        }
        if record.isInternal {
            Counter(label: "commlog_smdr_internal_calls_total").increment()
            return
        }
        // The PBX does not send a record twice: retry until the broker confirms, reading nothing meanwhile (the PBX buffers).
        let events = record.events(start: start, linkID: link.id, line: line)
        while true {
            do {
                try await publisher.publish(events, organisationID: link.organisationID, ingress: "smdr")
                break
            } catch let invalid as EventDecodingError {
                // Never publishable, however often it is tried: counted and skipped, so later records go on.
                logger.warning("SMDR record refused, skipped", metadata: ["reason": "\(invalid)", "smdr_link": "\(link.id)"])
                Counter(label: "commlog_smdr_lines_skipped_total").increment()
                await count(link, skipped: true)
                return
            } catch {
                try Task.checkCancellation()
                logger.warning("could not publish an SMDR record; retrying", metadata: ["error": "\(error)", "smdr_link": "\(link.id)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
        Counter(label: "commlog_smdr_records_total").increment()
        await count(link, skipped: false)
    }

    private func count(_ link: SMDRLink, skipped: Bool) async {
        do {
            try await store.count(organisationID: link.organisationID, id: link.id, skipped: skipped)
        } catch {
            logger.debug("could not count an SMDR line", metadata: ["error": "\(error)"])
        }
    }

    private func note(_ link: SMDRLink, connected: Bool, error: String?) async {
        do {
            try await store.note(organisationID: link.organisationID, id: link.id, error: connected ? nil : (error ?? "disconnected"))
        } catch {
            logger.debug("could not note the SMDR link's state", metadata: ["error": "\(error)"])
        }
    }
}
