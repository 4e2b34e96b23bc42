import Messaging
import Testing
import TestSupport

/// The dead-letter queue drops nothing: no delivery limit under RabbitMQ 3 (which has none unless one is set, and
/// reads `-1` as "drop at the first return"), an explicit `x-delivery-limit: -1` under RabbitMQ 4 (whose quorum
/// queues otherwise drop a message after 20 returns).
@Suite("Dead-letter queue delivery limit")
struct DeadLetterQueueLimitTests {
    @Test("the broker's major version is read from its version property")
    func majorVersion() {
        #expect(Topology.majorVersion("3.10.8") == 3)
        #expect(Topology.majorVersion("4.1.0") == 4)
        #expect(Topology.majorVersion("4") == 4)
        #expect(Topology.majorVersion(nil) == nil)
        #expect(Topology.majorVersion("unknown") == nil)
    }

    @Test("only the dead-letter queue, and only under RabbitMQ 4, is declared with the unlimited x-delivery-limit -1")
    func arguments() throws {
        let deadLetters = try #require(Topology.base.queues.first { $0.name == Topology.deadLetterQueue })
        #expect(deadLetters.arguments(brokerMajorVersion: 4)["x-delivery-limit"] == .int(-1))
        #expect(deadLetters.arguments(brokerMajorVersion: 3)["x-delivery-limit"] == nil)
        #expect(deadLetters.arguments(brokerMajorVersion: nil)["x-delivery-limit"] == nil)
        let ordinary = Topology.Queue(name: "q", bindings: ["k"], deliveryLimit: 5)
        #expect(Topology.Queue(name: "q", bindings: ["k"]).arguments(brokerMajorVersion: 4)["x-delivery-limit"] == nil)
        #expect(ordinary.arguments(brokerMajorVersion: 4)["x-delivery-limit"] == .int(5))
    }

    @Test("under RabbitMQ 4 the broker receives x-delivery-limit -1; a queue declared before with or without it is kept and still used")
    func declaredOnTheRealBroker() async throws {
        func queue(_ name: String) -> Topology.Queue {
            var queue = Topology.Queue(name: name, bindings: [name], deliveryLimit: nil, deadLetterExchange: nil, expiresAfter: .seconds(900))
            queue.hasUnlimitedDeliveries = true
            return queue
        }
        // Declared as for RabbitMQ 4, the broker holds -1; declared again without it (as under RabbitMQ 3), the
        // queue is used as it is.
        let fresh = queue(TestEnvironment.unique("test.dl-limit"))
        try await TestEnvironment.withConnection(brokerMajorVersion: 4) { try await $0.declare(Topology(queues: [fresh])) }
        let listed = try await TestEnvironment.stack("rabbitmqctl", "list_queues", "--quiet", "--vhost", "commlog", "name", "arguments")
        let line = try #require(listed.split(separator: "\n").first { $0.hasPrefix(fresh.name) })
        #expect(line.contains("x-delivery-limit") && line.contains("-1"))
        try await TestEnvironment.withConnection(brokerMajorVersion: 3) { try await $0.declare(Topology(queues: [fresh])) }

        // Declared before without the argument (an older Commlog, or RabbitMQ 3 before an upgrade): still declared
        // and consumed under RabbitMQ 4, with the advice to lift the limit by a policy logged.
        let older = queue(TestEnvironment.unique("test.dl-limit"))
        try await TestEnvironment.withConnection(brokerMajorVersion: 3) { try await $0.declare(Topology(queues: [older])) }
        try await TestEnvironment.withConnection(brokerMajorVersion: 4) { connection in
            try await connection.declare(Topology(queues: [older]))
            let id = TestEnvironment.unique("kept")
            try await connection.publish(OutgoingMessage(exchange: older.exchange, routingKey: older.bindings[0], body: Array("x".utf8), messageID: id))
            let delivery = try #require(try await connection.consume(queue: older.name, prefetch: 1).take(1).first)
            #expect(delivery.properties.messageID == id)
            delivery.ack()
        }
    }
}
