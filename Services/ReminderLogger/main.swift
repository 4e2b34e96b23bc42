import CommlogRuntime
import Messaging

// reminder-logger: consumes the practice software's events (practice.#) and logs them.
await ProgramRunner.run("reminder-logger", defaultHTTPPort: 8082) { infrastructure, registry in
    let practice = infrastructure.queue(CommlogQueues.practice)
    return infrastructure.serviceGroup(
        services: [TopologyDeclaration(connection: infrastructure.consuming, topology: .commlog(queues: [practice]), logger: infrastructure.logger)],
        registry: registry
    )
}
