import Messaging
import Testing
import TestSupport

/// The users of `deploy/rabbitmq/definitions.json`, as the local stack loads them: the practice software may
/// publish its own events and nothing else.
@Suite("Broker users and permissions")
struct BrokerPermissionsTests {
    @Test("the practice user publishes practice.* events, and can neither publish anything else, nor consume, nor declare")
    func practiceUser() async throws {
        // A queue of the test's own, bound by the suite's user, sees what the practice user publishes.
        let key = "practice.test.\(TestEnvironment.unique("permissions"))"
        let queue = Topology.Queue(name: TestEnvironment.unique("test.practice-user"), bindings: [key], expiresAfter: .seconds(900))
        try await TestEnvironment.withConnection { try await $0.declare(.commlog(queues: [queue])) }

        try await TestEnvironment.withConnection(name: "test-practice", urlVariable: "COMMLOG_TEST_AMQP_PRACTICE_URL") { practice in
            let id = TestEnvironment.unique("allowed")
            try await practice.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key, body: Array("{}".utf8), messageID: id), timeout: .seconds(10))
            let delivered = try await TestEnvironment.withConnection { try await $0.consume(queue: queue.name, prefetch: 1).take(1).first.map { ($0.properties.messageID, $0.properties.userID) } }
            #expect(delivered?.0 == id)
            #expect(delivered?.1 == "practice")

            let phone = await #expect(throws: AMQPError.self) {
                try await practice.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "phone.call.event", body: Array("{}".utf8)), timeout: .seconds(10))
            }
            #expect(phone?.description.contains("ACCESS_REFUSED") == true, "\(phone.map(String.init(describing:)) ?? "")")
            let defaultExchange = await #expect(throws: AMQPError.self) {
                try await practice.publish(OutgoingMessage(exchange: "", routingKey: queue.name, body: Array("{}".utf8)), timeout: .seconds(10))
            }
            #expect(defaultExchange?.description.contains("ACCESS_REFUSED") == true, "\(defaultExchange.map(String.init(describing:)) ?? "")")
            let declare = await #expect(throws: AMQPError.self) {
                try await practice.declare(Topology(queues: [Topology.Queue(name: TestEnvironment.unique("test.not-allowed"), bindings: [], expiresAfter: .seconds(60))]))
            }
            #expect(declare?.description.contains("ACCESS_REFUSED") == true, "\(declare.map(String.init(describing:)) ?? "")")
            let consume = await #expect(throws: (any Error).self) {
                _ = try await practice.consume(queue: queue.name, prefetch: 1).nextBatch(maximum: 1, maximumWait: .seconds(5))
            }
            #expect("\(consume.map(String.init(describing:)) ?? "")".contains("ACCESS_REFUSED"))
            // Still allowed after all that: a refusal closes a channel, never the user's connection for good.
            try await practice.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key, body: Array("{}".utf8), messageID: TestEnvironment.unique("again")), timeout: .seconds(10))
        }
    }

    @Test("the phone system's user publishes phone.call.event only")
    func phoneSystemUser() async throws {
        try await TestEnvironment.withConnection(name: "test-phone", urlVariable: "COMMLOG_TEST_AMQP_PHONE_URL") { phone in
            let refused = await #expect(throws: AMQPError.self) {
                try await phone.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "practice.reminder.sent", body: Array("{}".utf8)), timeout: .seconds(10))
            }
            #expect(refused?.description.contains("ACCESS_REFUSED") == true, "\(refused.map(String.init(describing:)) ?? "")")
        }
    }
}
