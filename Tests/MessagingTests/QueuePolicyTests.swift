import Messaging
import Synchronization
import Testing
import TestSupport

/// Commlog's queues declare only what never changes (quorum, dead-lettering); the delivery limit and length
/// limits are the broker policy's, so that an operator changes them without any program failing to declare its
/// queue, and the consumer enforces `COMMLOG_DELIVERY_LIMIT` itself.
@Suite("Queue arguments and policies")
struct QueuePolicyTests {
    @Test("a consumer queue declares no delivery limit and no length limit; the names of refused arguments are read")
    func arguments() {
        let queue = Topology.Queue(name: "reminder-logger.practice", bindings: ["practice.#"])
        let arguments = queue.arguments(brokerMajorVersion: 3)
        #expect(arguments["x-queue-type"] == "quorum")
        #expect(arguments["x-dead-letter-exchange"] == .string(Topology.deadLetterExchange))
        #expect(arguments["x-delivery-limit"] == nil)
        #expect(arguments["x-max-length"] == nil)
        let refusal = "PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit' for queue 'q' in vhost 'commlog': received none but current is the value '5' of type 'signedint'"
        #expect(Topology.Queue.inequivalentArgument(in: refusal) == "x-delivery-limit")
        #expect(Topology.Queue.inequivalentArgument(in: "NOT_FOUND - no queue 'q'") == nil)
    }

    @Test("a queue an older Commlog declared with x-delivery-limit is used as it is, and one whose type differs is still refused")
    func olderDeclarations() async throws {
        try await TestEnvironment.withConnection { connection in
            // Declared as before: with a fixed delivery limit.
            let key = TestEnvironment.unique("test.key")
            let older = Topology.Queue(name: TestEnvironment.unique("test.older"), bindings: [key], deliveryLimit: 5, expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [older]))
            // Declared as now, and with another limit: both go through and the queue carries messages.
            var current = older
            current.deliveryLimit = nil
            try await connection.declare(.commlog(queues: [current]))
            current.deliveryLimit = 9
            try await connection.declare(.commlog(queues: [current]))
            let id = TestEnvironment.unique("kept")
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key, body: Array("x".utf8), messageID: id))
            let delivery = try #require(try await connection.consume(queue: older.name, prefetch: 1).take(1).first)
            #expect(delivery.properties.messageID == id)
            delivery.ack()

            // Another dead-letter exchange is no policy's business: refused as before, and the connection carries on.
            var elsewhere = current
            elsewhere.deadLetterExchange = "somewhere.else"
            let error = await #expect(throws: AMQPError.self) { try await connection.declare(Topology(queues: [elsewhere])) }
            #expect(error?.code == .channelClosed)
            #expect(error?.description.contains("x-dead-letter-exchange") == true)
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key, body: Array("y".utf8)))
        }
    }

    @Test("a message delivered COMMLOG_DELIVERY_LIMIT times is dead-lettered by the consumer untried and unprepared, with its reason; the others are processed", arguments: [1, 2])
    func consumersOwnLimit(concurrency: Int) async throws {
        try await TestEnvironment.withConnection { connection in
            // No delivery limit on the queue: only the consumer's applies.
            let queue = Topology.Queue(name: TestEnvironment.unique("test.own-limit"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [queue]))
            let spentID = TestEnvironment.unique("spent")
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array("spent".utf8), messageID: spentID))
            // Delivered twice and handed back each time, as to a consumer that crashed while processing it.
            // (The broker may hand it to this consumer a third time before it is cancelled, and count that too.)
            do {
                let raw = connection.consume(queue: queue.name, prefetch: 1)
                for _ in 0..<2 { try #require(try await raw.take(1, within: .seconds(5)).first).nack(requeue: true) }
                raw.stop()
            }
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array("fresh".utf8), messageID: TestEnvironment.unique("fresh")))

            var configuration = BatchConfiguration()
            configuration.deliveryLimit = 2
            configuration.maximumWait = .milliseconds(200)
            configuration.concurrency = concurrency
            // Preparing is where a message that crashes the process (a parser's fault) would crash it again.
            let handler = PreparingHandler()
            let consumer = BatchingConsumer(queue: queue, consumerConnection: connection, publisher: connection, handler: handler,
                                            configuration: configuration, isTransient: { _ in false }, logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                defer { group.cancelAll() }
                #expect(await eventually { handler.committed == ["fresh"] })
                let letter = try await DeadLetterProbe.waitFor(messageID: spentID)
                #expect(letter.queue == queue.name)
                #expect(letter.reason.contains("times without being settled"))
                #expect(letter.reason.contains("COMMLOG_DELIVERY_LIMIT is 2"))
            }
            #expect(!handler.committed.contains("spent"))
            #expect(!handler.events.contains("prepared spent"))
            #expect(handler.events.contains("prepared fresh"))
            #expect(handler.misaligned.isEmpty)
        }
    }
}

/// A handler whose first attempt never answers, cancelled or not (as a database client that lost a request).
final class NeverAnsweringOnceHandler: BatchHandler {
    private let attempts = Mutex(0)
    private let committedTexts = Mutex<[String]>([])
    var attemptCount: Int { attempts.withLock { $0 } }
    var committed: [String] { committedTexts.withLock { $0 } }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        let attempt = attempts.withLock { count -> Int in
            count += 1
            return count
        }
        if attempt == 1 {
            // Not even cancellation ends it.
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
        }
        committedTexts.withLock { $0 += batch.map { String(decoding: $0.body, as: UTF8.self) } }
        return []
    }
}

@Suite("Batching consumer: an attempt that never answers")
struct AbandonedAttemptTests {
    @Test("an attempt past COMMLOG_BATCH_TIMEOUT_S is abandoned and the batch tried again; a stop while one hangs still stops at once")
    func abandoned() async throws {
        try await TestEnvironment.withConnection { connection in
            let queue = Topology.Queue(name: TestEnvironment.unique("test.abandoned"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [queue]))
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array("stuck once".utf8)))
            var configuration = BatchConfiguration()
            configuration.attemptTimeout = .milliseconds(500)
            configuration.minimumRetryDelay = .milliseconds(10)
            let handler = NeverAnsweringOnceHandler()
            let consumer = BatchingConsumer(queue: queue, consumerConnection: connection, publisher: connection, handler: handler,
                                            configuration: configuration, isTransient: { _ in false }, logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                defer { group.cancelAll() }
                #expect(await eventually(timeout: .seconds(10)) { handler.committed == ["stuck once"] })
                #expect(handler.attemptCount == 2)
            }
            // Nothing left on the queue: the second attempt's commit was acked.
            #expect(try await connection.consume(queue: queue.name, prefetch: 1).take(1, within: .seconds(1)).isEmpty)
        }
    }

    @Test("the attempt is left behind: its caller gets AttemptTimedOut, or CancellationError when it is cancelled")
    func leftBehind() async throws {
        let start = ContinuousClock.now
        await #expect(throws: AttemptTimedOut.self) {
            try await abandoning(after: .milliseconds(200)) { await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in } }
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        let waiting = Task {
            try await abandoning(after: .seconds(600)) { await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in } }
        }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(try await abandoning(after: .seconds(5)) { 42 } == 42)
    }
}
