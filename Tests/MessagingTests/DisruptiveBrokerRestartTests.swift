import Foundation
import Messaging
import Synchronization
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Stops and starts the real broker mid-stream. `make test` runs this suite on its own, after the others,
/// because a broker restart would disturb tests running beside it.
@Suite("Disruptive: broker restart", .serialized)
struct DisruptiveBrokerRestartTests {
    @Test("after the broker restarts mid-stream the consumer reconnects by itself and every confirmed message is consumed")
    func brokerRestart() async throws {
        let publisher = AMQPConnection(configuration: try TestEnvironment.amqpConfiguration(name: "test-restart-publish"), logger: TestEnvironment.logger)
        let consumerConnection = AMQPConnection(configuration: try TestEnvironment.amqpConfiguration(name: "test-restart-consume"), logger: TestEnvironment.logger)
        let queue = Topology.Queue(name: TestEnvironment.unique("test.restart"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
        try await publisher.declare(.commlog(queues: [queue]))
        let handler = RecordingHandler()
        let consumer = BatchingConsumer(
            queue: queue, consumerConnection: consumerConnection, publisher: publisher, handler: handler,
            isTransient: RecordingHandler.isTransient, logger: TestEnvironment.logger
        )
        let confirmed = ConfirmedSet()
        let chunks = 60, chunkSize = 50

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            group.addTask {
                for chunk in 0..<chunks {
                    let texts = (0..<chunkSize).map { "c\(chunk)-m\($0)" }
                    let messages = texts.map { OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array($0.utf8)) }
                    // A publish caught by the restart waits for the new connection and is confirmed then.
                    try await publisher.publish(messages, timeout: .seconds(90))
                    confirmed.withLock { $0.formUnion(texts) }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(confirmed.withLock { $0.count } < chunks * chunkSize, "the restart should happen mid-stream")
            try await TestEnvironment.stack("rabbitmq-stop")
            let disconnected = await eventually(timeout: .seconds(10)) { !publisher.isConnected && !consumerConnection.isConnected }
            #expect(disconnected)
            let confirmedWhileDown = confirmed.withLock { $0.count }
            #expect(confirmedWhileDown < chunks * chunkSize, "publishing should still be going on while the broker is down")
            try await TestEnvironment.stack("rabbitmq-start")

            let allConsumed = await eventually(timeout: .seconds(40), every: .milliseconds(200)) {
                let sent = confirmed.withLock { $0 }
                return sent.count == chunks * chunkSize && Set(handler.committed).isSuperset(of: sent)
            }
            #expect(allConsumed, "confirmed \(confirmed.withLock { $0.count }) of \(chunks * chunkSize), consumed \(Set(handler.committed).count)")
            #expect(Set(handler.committed).count == chunks * chunkSize)
            let reconnected = await eventually(timeout: .seconds(10)) { publisher.isConnected && consumerConnection.isConnected }
            #expect(reconnected)
            group.cancelAll()
        }
        await publisher.shutdown()
        await consumerConnection.shutdown()
    }
}

extension DisruptiveBrokerRestartTests {
    @Test("a program whose broker went away stops within seconds of SIGTERM while it reconnects, and is ready again once the broker is back")
    func stopWhileReconnecting() async throws {
        let port = freePort()
        let program = try ProgramProcess("reminder-logger", environment: ["COMMLOG_HTTP_PORT": "\(port)"])
        @Sendable func readiness() async -> Int {
            guard let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!) else { return 0 }
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        #expect(await eventually(timeout: .seconds(30), every: .milliseconds(100)) { await readiness() == 200 })
        try await TestEnvironment.stack("rabbitmq-stop")
        let reconnecting = await eventually(timeout: .seconds(20), every: .milliseconds(200)) { await readiness() == 503 }
        let start = ContinuousClock.now
        let status = await program.kill(SIGTERM)
        let stopping = ContinuousClock.now - start
        try await TestEnvironment.stack("rabbitmq-start")
        #expect(reconnecting, "the program should say it is not ready while the broker is down")
        #expect(stopping < .seconds(10), "took \(stopping) to stop")
        #expect(status == 0, "exit status \(status)")

        // A program started while the broker is down connects once it is back.
        let other = freePort()
        let late = try ProgramProcess("reminder-logger", environment: ["COMMLOG_HTTP_PORT": "\(other)"])
        #expect(await eventually(timeout: .seconds(60), every: .milliseconds(200)) { await ProgramProcess.isReady(port: other) })
        #expect(await late.kill(SIGTERM) == 0)
    }
}

/// What the publisher has had confirmed, read by the test while the publisher goes on.
final class ConfirmedSet: Sendable {
    private let texts = Mutex<Set<String>>([])
    func withLock<T: Sendable>(_ body: (inout sending Set<String>) -> sending T) -> T { texts.withLock(body) }
}
