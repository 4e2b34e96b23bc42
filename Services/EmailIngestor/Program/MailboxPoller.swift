import CommlogRuntime
import Foundation
import Integrations
import Logging
import Messaging
import ServiceLifecycle
import Storage

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
        await cancelWhenGracefulShutdown {
            await supervise()
        }
        // Outside the cancelled task (a query there fails at once): give the mailboxes up, so that another
        // replica takes them on its next round rather than after the leases expire.
        await store.releaseAll(holder: configuration.instanceID)
    }

    private func supervise() async {
        // New mailboxes and expired leases are noticed within a few seconds.
        let supervisor = LeaseSupervisor<Mailbox, UUID>(refresh: min(.seconds(5), configuration.waitSlice), id: \.id)
        await supervisor.run {
            try await store.enabledMailboxes()
        } claim: { mailbox in
            try await store.claim(mailbox.leaseName, holder: configuration.instanceID, ttl: configuration.leaseTTL)
        } work: { [store, publisher, sealer, configuration, status, logger] mailbox in
            var sessionLogger = logger
            sessionLogger[metadataKey: "mailbox"] = "\(mailbox.label)"
            logger.info("polling mailbox", metadata: ["mailbox": "\(mailbox.label)", "organisation": "\(mailbox.organisationID)"])
            await MailboxSession(
                mailbox: mailbox, store: store, publisher: publisher, sealer: sealer, configuration: configuration, status: status, logger: sessionLogger
            ).run()
        } failed: { error in
            logger.warning("could not read mailboxes or leases", metadata: ["error": "\(error)"])
        } afterRound: {
            status.refreshLag()
        }
    }
}
