import CommlogRuntime
import Foundation
import Integrations
import Logging
import Messaging
import ServiceLifecycle
import Synchronization

/// Shares the configured mailboxes between replicas through leases in PostgreSQL and runs a
/// `MailboxSession` for each mailbox this replica holds. A dead replica's leases expire and the
/// mailboxes are taken over by another replica on its next round.
struct MailboxPoller: Service {
    let store: MailboxStore
    let publisher: AMQPConnection
    let sealer: SecretSealer
    let configuration: IngestorConfiguration
    let logger: Logger
    let status = MailboxStatusBoard()

    func run() async throws {
        // Graceful shutdown cancels the sessions: an IDLE ends at once.
        try await cancelWhenGracefulShutdown {
            await supervise()
        }
        // Outside the cancelled task (a query there fails at once): give the mailboxes up, so that another
        // replica takes them on its next round rather than after the leases expire.
        await store.releaseAll(holder: configuration.instanceID)
    }

    private func supervise() async {
        let running = RunningSessions()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                do {
                    for mailbox in try await store.enabledMailboxes() where !running.contains(mailbox.id) {
                        guard try await store.claim(mailbox.leaseName, holder: configuration.instanceID, ttl: configuration.leaseTTL) else { continue }
                        running.insert(mailbox.id)
                        var sessionLogger = logger
                        sessionLogger[metadataKey: "mailbox"] = "\(mailbox.label)"
                        logger.info("polling mailbox", metadata: ["mailbox": "\(mailbox.label)", "organisation": "\(mailbox.organisationID)"])
                        let session = MailboxSession(
                            mailbox: mailbox, store: store, publisher: publisher, sealer: sealer,
                            configuration: configuration, status: status, logger: sessionLogger
                        )
                        group.addTask {
                            await session.run()
                            running.remove(mailbox.id)
                        }
                    }
                } catch where !Task.isCancelled {
                    logger.warning("could not read mailboxes or leases", metadata: ["error": "\(error)"])
                } catch {
                    break
                }
                status.refreshLag()
                // New mailboxes and expired leases are noticed within a few seconds.
                try? await Task.sleep(for: min(.seconds(5), configuration.waitSlice))
            }
            group.cancelAll()
        }
    }
}

/// The mailboxes this replica has a session for.
private final class RunningSessions: Sendable {
    private let ids = Mutex<Set<UUID>>([])
    func contains(_ id: UUID) -> Bool { ids.withLock { $0.contains(id) } }
    func insert(_ id: UUID) { _ = ids.withLock { $0.insert(id) } }
    func remove(_ id: UUID) { _ = ids.withLock { $0.remove(id) } }
}
