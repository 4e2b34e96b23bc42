import Messaging
import Testing
import TestSupport

/// Publishing with confirms and consuming with acknowledgements against the real broker.
@Suite("AMQP publish and consume")
struct PublishConsumeTests {
    /// A queue of its own for each test, bound to a routing key of its own.
    static func declareQueue(on connection: AMQPConnection, deliveryLimit: Int? = 5) async throws -> (queue: String, key: String) {
        let queue = TestEnvironment.unique("test.queue")
        let key = TestEnvironment.unique("test.key")
        try await connection.declare(.commlog(queues: [Topology.Queue(name: queue, bindings: [key], deliveryLimit: deliveryLimit, expiresAfter: .seconds(900))]))
        return (queue, key)
    }

    static func message(_ text: String, key: String, id: String? = nil, headers: AMQPTable = [:]) -> OutgoingMessage {
        OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key, body: Array(text.utf8), messageID: id, headers: headers)
    }

    @Test("a confirmed message arrives with its properties and, once acked, is gone")
    func publishConfirmConsumeAck() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            try await connection.publish(Self.message("hello", key: key, id: "m-1", headers: ["x-org": "org-1", "x-count": 3]))

            let deliveries = connection.consume(queue: queue, prefetch: 10)
            let received = try await deliveries.take(1)
            #expect(received.texts == ["hello"])
            let delivery = try #require(received.first)
            #expect(delivery.properties.messageID == "m-1")
            #expect(delivery.properties.contentType == "application/json")
            #expect(delivery.properties.headers["x-org"]?.stringValue == "org-1")
            #expect(delivery.properties.headers["x-count"]?.intValue == 3)
            #expect(delivery.routingKey == key)
            #expect(!delivery.redelivered)
            delivery.ack()
            deliveries.stop()

            let again = connection.consume(queue: queue, prefetch: 10)
            #expect(try await again.take(1, within: .seconds(1)).isEmpty)
        }
    }

    @Test("a nacked message with requeue comes back, marked redelivered")
    func nackRequeueRedelivers() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            try await connection.publish(Self.message("again", key: key))
            let deliveries = connection.consume(queue: queue, prefetch: 1)
            let first = try #require(try await deliveries.take(1).first)
            first.nack(requeue: true)
            let second = try #require(try await deliveries.take(1).first)
            #expect(String(decoding: second.body, as: UTF8.self) == "again")
            #expect(second.redelivered)
            #expect(second.previousDeliveries >= 1)
            second.ack()
        }
    }

    @Test("reject without requeue dead-letters the message")
    func rejectDeadLetters() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            let marker = TestEnvironment.unique("rejected")
            try await connection.publish(Self.message(marker, key: key, id: marker))
            let deliveries = connection.consume(queue: queue, prefetch: 1)
            try #require(try await deliveries.take(1).first).reject(requeue: false)
            let letter = try await DeadLetterProbe.waitFor(messageID: marker)
            #expect(letter.queue == queue)
            #expect(letter.reason.contains("rejected"))
        }
    }

    @Test("multiple-ack settles every delivery up to the one acked")
    func multipleAck() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            try await connection.publish((1...20).map { Self.message("m\($0)", key: key) })
            let deliveries = connection.consume(queue: queue, prefetch: 50)
            let received = try await deliveries.take(20)
            #expect(received.count == 20)
            received.last?.ack(multiple: true)
            deliveries.stop()
            let again = connection.consume(queue: queue, prefetch: 50)
            #expect(try await again.take(1, within: .seconds(1)).isEmpty)
        }
    }

    @Test("prefetch bounds the unacknowledged deliveries the broker sends")
    func prefetchBounds() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            try await connection.publish((1...10).map { Self.message("m\($0)", key: key) })
            let deliveries = connection.consume(queue: queue, prefetch: 3)
            let first = try await deliveries.take(10, within: .seconds(1))
            #expect(first.count == 3)
            first.last?.ack(multiple: true)
            let rest = try await deliveries.take(7, within: .seconds(2))
            #expect(rest.count == 3)
        }
    }

    @Test("a mandatory publish that reaches no queue is reported as unroutable")
    func unroutable() async throws {
        try await TestEnvironment.withConnection { connection in
            try await connection.declare(.base)
            let error = await #expect(throws: AMQPError.self) {
                try await connection.publish(Self.message("nowhere", key: TestEnvironment.unique("unbound")))
            }
            #expect(error?.code == .unroutable)
            // The connection carries on.
            let (queue, key) = try await Self.declareQueue(on: connection)
            try await connection.publish(Self.message("somewhere", key: key))
            #expect(try await connection.consume(queue: queue, prefetch: 1).take(1).texts == ["somewhere"])
        }
    }

    @Test("a declare that conflicts with the existing queue fails clearly and the connection carries on")
    func conflictingDeclare() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            let error = await #expect(throws: AMQPError.self) {
                try await connection.declare(Topology(queues: [Topology.Queue(name: queue, bindings: [key], deadLetterExchange: nil)]))
            }
            #expect(error?.code == .channelClosed)
            #expect(error?.description.contains("PRECONDITION_FAILED") == true)
            try await connection.publish(Self.message("still fine", key: key))
        }
    }

    @Test("10,000 messages published with confirms in one batch are all consumed")
    func tenThousand() async throws {
        try await TestEnvironment.withConnection { connection in
            let (queue, key) = try await Self.declareQueue(on: connection)
            let count = 10_000
            try await connection.publish((0..<count).map { Self.message("\($0)", key: key) }, timeout: .seconds(60))
            let deliveries = connection.consume(queue: queue, prefetch: 1000)
            var seen = Set<String>()
            while seen.count < count {
                let batch = try await deliveries.take(500, within: .seconds(20))
                if batch.isEmpty { break }
                seen.formUnion(batch.texts)
                batch.last?.ack(multiple: true)
            }
            #expect(seen.count == count)
        }
    }
}
