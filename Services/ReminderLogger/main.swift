import CommlogRuntime
import Messaging

// reminder-logger: consumes the practice software's events (practice.#) and logs them.
await ProgramRunner.run("reminder-logger", defaultHTTPPort: 8082) { infrastructure, registry in
    let handler = PracticeEventHandler(database: infrastructure.database, publisher: infrastructure.publishing, logger: infrastructure.logger)
    return infrastructure.serviceGroup(
        services: [infrastructure.consumer(infrastructure.queue(CommlogQueues.practice), handler: handler)],
        registry: registry
    )
}
