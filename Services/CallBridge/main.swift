import CommlogRuntime
import Messaging

// call-bridge: takes call events from the phone system and keeps calls open until a staff member ends them.
await ProgramRunner.run("call-bridge", defaultHTTPPort: 8081) { infrastructure, registry in
    let calls = infrastructure.queue(CommlogQueues.calls)
    return infrastructure.serviceGroup(
        services: [TopologyDeclaration(connection: infrastructure.consuming, topology: .commlog(queues: [calls]), logger: infrastructure.logger)],
        registry: registry
    )
}
