import CommlogRuntime
import Hummingbird
import Messaging

// call-bridge: takes call events from the phone system and keeps calls open until a staff member ends them.
await ProgramRunner.run("call-bridge", defaultHTTPPort: 8081) { infrastructure, registry in
    let settings = try CallBridgeConfiguration(infrastructure.configuration)
    let announcer = Announcer(connection: infrastructure.publishing, logger: infrastructure.logger)
    let parts = CallBridge.build(infrastructure, settings: settings, announcer: announcer)
    return infrastructure.serviceGroup(
        // The announcer is listed before the consumer, so it stops after it and drains what the last batch announced.
        services: [
            announcer,
            infrastructure.consumer(infrastructure.queue(CommlogQueues.calls), handler: parts.handler),
            // One recording per batch, a few at a time: a slow download holds its own slot only.
            infrastructure.consumer(infrastructure.queue(CommlogQueues.recordings), handler: parts.downloads) { batching in
                batching.maximumBatchSize = 1
                batching.concurrency = settings.recordingConcurrency
                batching.prefetch = settings.recordingConcurrency
                // A download's own attempts and their timeouts run inside one batch attempt.
                batching.attemptTimeout = max(batching.attemptTimeout, settings.recordings.timeout * settings.recordings.attempts + .seconds(30))
            },
        ] + parts.services,
        router: parts.router,
        registry: registry
    )
}
