import CommlogDomain
import CommlogRuntime
import Foundation
import LogStore
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage

/// Closes calls left open longer than the configured time, as the system (audited `auto_close`, no staff).
///
/// Replicas may all run it: a call is closed by whichever update reaches it first, and only once.
struct AutoCloser: Service {
    let database: Database
    let announcer: Announcer
    /// Calls open longer than this (since they started) are closed.
    let after: Duration
    var interval: Duration = .seconds(60)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await closeStale()
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("auto-close failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Closes what is stale now and returns how many calls it closed.
    @discardableResult
    func closeStale(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(after.components.seconds))
        var organisations: [String] = []
        for try await organisation in try await database.client.query(
            "SELECT commlog_organisations_with_open_calls(\(cutoff))", logger: logger
        ).decode(String.self) {
            organisations.append(organisation)
        }
        var closed = 0
        for organisation in organisations {
            let changes = try await database.withTenant(organisation) { connection in
                try await PhoneCallLog(connection: connection, logger: logger).closeStale(before: cutoff)
            }
            closed += changes.count
            Counter(label: "commlog_calls_auto_closed_total").increment(by: changes.count)
            announcer.announce(changes.compactMap { id, client, staff in
                try? EventEnvelope(
                    type: .communicationUpdated, organisationID: organisation,
                    data: CommunicationChanged(communicationID: id, type: .phone, status: .closed, clientID: client, staffIDs: staff)
                ).outgoing()
            })
        }
        return closed
    }
}
