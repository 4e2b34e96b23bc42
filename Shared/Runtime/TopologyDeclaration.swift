import Logging
import Messaging
import ServiceLifecycle

/// Declares queues a program owns before it consumes them, so that publishers are not refused
/// (every publish is mandatory) while the program is still starting or has no consumer for them yet.
public struct TopologyDeclaration: Service {
    let connection: AMQPConnection
    let topology: Topology
    let logger: Logger

    public init(connection: AMQPConnection, topology: Topology, logger: Logger) {
        self.connection = connection
        self.topology = topology
        self.logger = logger
    }

    public func run() async throws {
        try await connection.declare(topology)
        logger.info("topology declared", metadata: ["queues": "\(topology.queues.map(\.name))"])
        try? await gracefulShutdown()
    }
}
