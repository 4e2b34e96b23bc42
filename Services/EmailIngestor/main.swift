import CommlogRuntime
import Messaging

// email-ingestor: imports shared mailboxes over IMAP and logs the messages it fetched (mail.message.fetched).
await ProgramRunner.run("email-ingestor", defaultHTTPPort: 8083) { infrastructure, registry in
    let mail = infrastructure.queue(CommlogQueues.mail)
    return infrastructure.serviceGroup(
        services: [TopologyDeclaration(connection: infrastructure.consuming, topology: .commlog(queues: [mail]), logger: infrastructure.logger)],
        registry: registry
    )
}
