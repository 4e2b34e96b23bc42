import CommlogRuntime
import Messaging
import Testing
import TestSupport

@Suite("Delivery limit and dead letters")
struct DeliveryLimitTests {
    @Test("a message requeued past the delivery limit reaches the dead-letter queue and the dead_letters table")
    func deliveryLimit() async throws {
        try await TestEnvironment.withConnection { connection in
            let queue = Topology.Queue(name: TestEnvironment.unique("test.limit"), bindings: [TestEnvironment.unique("test.key")], deliveryLimit: 2, expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [queue]))
            let id = TestEnvironment.unique("limited")
            let body = #"{"id":"\#(id)","organisation_id":"org-limit"}"#
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array(body.utf8), messageID: id))
            let deliveries = connection.consume(queue: queue.name, prefetch: 1)
            var attempts = 0
            while let delivery = try await deliveries.take(1, within: .seconds(2)).first {
                attempts += 1
                delivery.nack(requeue: true)
            }
            #expect(attempts == 3)  // the first delivery plus two redeliveries
            let letter = try await DeadLetterProbe.waitFor(messageID: id)
            #expect(letter.queue == queue.name)
            #expect(letter.routingKey == queue.bindings[0])
            #expect(letter.organisationID == "org-limit")
            #expect(letter.reason.contains("delivery limit"))
        }
    }

    @Test("a replayed dead letter goes back to the queue it came from and is marked replayed")
    func replay() async throws {
        try await TestEnvironment.withConnection { connection in
            let queue = Topology.Queue(name: TestEnvironment.unique("test.replay"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [queue]))
            let id = TestEnvironment.unique("replayed")
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array("payload".utf8), messageID: id, headers: ["x-keep": "yes"]))
            let deliveries = connection.consume(queue: queue.name, prefetch: 1)
            try #require(try await deliveries.take(1).first).reject(requeue: false)
            let letter = try await DeadLetterProbe.waitFor(messageID: id)

            try await TestEnvironment.withDatabase { database in
                let store = DeadLetterStore(database: database)
                try await store.replay(letter.id, through: connection)
                let replayed = try await store.list(organisationID: nil, includeReplayed: true, limit: 500).first { $0.id == letter.id }
                #expect(replayed?.replayedAt != nil)
                #expect(try await store.list(organisationID: nil, includeReplayed: false, limit: 500).allSatisfy { $0.id != letter.id })
            }
            let back = try #require(try await deliveries.take(1).first)
            #expect(back.texts == ["payload"])
            #expect(back.properties.messageID == id)
            #expect(back.properties.headers["x-keep"]?.stringValue == "yes")
            #expect(back.properties.headers["x-death"] == nil)
            back.ack()
        }
    }
}

extension AMQPDelivery {
    var texts: [String] { [String(decoding: body, as: UTF8.self)] }
}
