import CommlogRuntime
import Messaging
import Testing
import TestSupport

@Suite("Readiness")
struct ReadinessTests {
    /// On a fresh broker a program's queues do not exist until its consumers declare them, and until then every
    /// publish to them is refused (publishes are mandatory): call-bridge answered a webhook 503 while `/readyz`
    /// already said ready.
    @Test("a program is not ready until its consumers have declared their queues")
    func queuesDeclared() async throws {
        let infrastructure = Infrastructure(
            program: "test-readiness", configuration: try ProgramConfiguration(program: "test-readiness", defaultHTTPPort: 1), logger: TestEnvironment.logger
        )
        let queue = Topology.Queue(name: TestEnvironment.unique("test.readiness"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
        let consumer = infrastructure.consumer(queue, handler: RecordingHandler())
        let message = OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array("m".utf8), messageID: "m")
        func queuesReady() async -> Bool {
            for check in infrastructure.readiness where check.name == "queues" { return await check.check() }
            Issue.record("no readiness check named queues")
            return false
        }

        #expect(await queuesReady() == false)
        await #expect(throws: AMQPError.self) { try await infrastructure.publishing.publish(message) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            defer { group.cancelAll() }
            #expect(await eventually { await queuesReady() })
            // Ready means routable: the same publish is now confirmed.
            try await infrastructure.publishing.publish(message)
        }
        await infrastructure.publishing.shutdown()
        await infrastructure.consuming.shutdown()
    }
}
