import CommlogRuntime
import Messaging

// reminder-logger: consumes the practice software's events (practice.#) and logs them.
await ProgramRunner.run("reminder-logger", defaultHTTPPort: 8082) { infrastructure, registry in
    let announcer = Announcer(connection: infrastructure.publishing, logger: infrastructure.logger)
    var handler = PracticeEventHandler(database: infrastructure.database, announcer: announcer, logger: infrastructure.logger)
    handler.publishers = infrastructure.configuration.publishers
    return infrastructure.serviceGroup(
        // The announcer is listed before the consumer, so it stops after it and drains what the last batch announced.
        services: [announcer, infrastructure.consumer(
            infrastructure.queue(CommlogQueues.practice), handler: handler, defaultConcurrency: PracticeEventHandler.defaultConcurrency
        )],
        registry: registry
    )
}
