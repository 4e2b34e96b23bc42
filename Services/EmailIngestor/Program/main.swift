import CommlogRuntime
import Integrations
import Messaging
import ServiceLifecycle
import Storage

// email-ingestor: imports shared mailboxes over IMAP (mail.message.fetched) and logs the messages it fetched.
await ProgramRunner.run("email-ingestor", defaultHTTPPort: 8083) { infrastructure, registry in
    let ingestor = try IngestorConfiguration(infrastructure.configuration)
    let announcer = Announcer(connection: infrastructure.publishing, logger: infrastructure.logger)
    var handler = MailMessageHandler(database: infrastructure.database, announcer: announcer, logger: infrastructure.logger)
    // Only what this program (any replica: they share the broker user) fetched.
    handler.fetcherUser = infrastructure.configuration.amqp.user
    // Two batches at a time: one is parsed and matched while the other commits, and PostgreSQL works on two.
    // Copies of one message (one Message-ID) still commit in delivery order (MailMessageHandler.orderingKeys).
    let consumer = infrastructure.consumer(infrastructure.queue(CommlogQueues.mail), handler: handler, defaultConcurrency: 2) { batches in
        batches.prefetch = ingestor.consumerPrefetch
        batches.maximumBatchSize = ingestor.consumerBatchSize
        // Parsing and storing a batch of large messages (attachments up to COMMLOG_MAIL_MAX_MESSAGE_BYTES each) takes longer.
        batches.attemptTimeout = max(batches.attemptTimeout, .seconds(120))
    }
    var services: [any Service] = [announcer, consumer]
    if ingestor.pollerEnabled {
        let store = MailboxStore(database: infrastructure.database, logger: infrastructure.logger)
        let sealer = try infrastructure.configuration.secretSealer()
        services.append(MailboxPoller(store: store, publisher: infrastructure.publishing, sealer: sealer, configuration: ingestor, logger: infrastructure.logger))
    }
    return infrastructure.serviceGroup(services: services, registry: registry)
}
