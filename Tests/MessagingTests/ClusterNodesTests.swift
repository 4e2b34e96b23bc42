import Foundation
import Messaging
import Testing
import TestSupport

/// A connection given a cluster's nodes (`COMMLOG_AMQP_URL` as a comma-separated list) against the real broker.
@Suite("AMQP cluster nodes")
struct ClusterNodesTests {
    @Test("a node that is down is passed over: the connection tries the next one and publishes and consumes through it")
    func nodeDownPassedOver() async throws {
        var configuration = try TestEnvironment.amqpConfiguration(name: "test-cluster")
        let broker = try #require(configuration.nodes.first)
        // Nothing listens on a fresh port: the first node is down.
        configuration.nodes = [AMQPConfiguration.Node(host: "127.0.0.1", port: freePort()), broker]
        configuration.minimumReconnectDelay = .milliseconds(20)
        let connection = AMQPConnection(configuration: configuration, logger: TestEnvironment.logger)
        do {
            let (queue, key) = try await PublishConsumeTests.declareQueue(on: connection)
            try await connection.publish(PublishConsumeTests.message("through the second node", key: key))
            let deliveries = connection.consume(queue: queue, prefetch: 1)
            let received = try await deliveries.take(1)
            #expect(received.texts == ["through the second node"])
            received.first?.ack()
            deliveries.stop()
            #expect(connection.isConnected)
        } catch {
            await connection.shutdown()
            throw error
        }
        await connection.shutdown()
    }
}
