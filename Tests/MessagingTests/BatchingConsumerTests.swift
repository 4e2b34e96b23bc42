import Messaging
import Synchronization
import Testing
import TestSupport

/// A handler that records what it committed and fails as told.
final class RecordingHandler: BatchHandler {
    struct Failure: Error, CustomStringConvertible {
        let transient: Bool
        var exhaustion = false
        var description: String { exhaustion ? "disk full" : transient ? "database went away" : "poison message" }
    }

    private let state = Mutex<(committed: [String], batches: [Int], transientFailuresLeft: Int)>(([], [], 0))
    /// Bodies that make the whole batch fail (as a constraint violation would).
    let poison: Set<String>
    /// Bodies rejected as never processable.
    let malformed: Set<String>
    /// Bodies that make the whole batch fail as the database running out of disk would, every time.
    let exhausting: Set<String>
    /// Bodies rejected as waiting for a prerequisite (an organisation not upserted yet), every time.
    let waiting: Set<String>
    private let waited = Mutex(0)
    /// How often a waiting body was handled.
    var waitedCount: Int { waited.withLock { $0 } }

    init(poison: Set<String> = [], malformed: Set<String> = [], exhausting: Set<String> = [], waiting: Set<String> = [], transientFailures: Int = 0) {
        self.poison = poison
        self.malformed = malformed
        self.exhausting = exhausting
        self.waiting = waiting
        state.withLock { $0.transientFailuresLeft = transientFailures }
    }

    var committed: [String] { state.withLock { $0.committed } }
    var batchSizes: [Int] { state.withLock { $0.batches } }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        let texts = batch.texts
        let failTransiently = state.withLock { state -> Bool in
            guard state.transientFailuresLeft > 0 else { return false }
            state.transientFailuresLeft -= 1
            return true
        }
        if failTransiently { throw Failure(transient: true) }
        if texts.contains(where: poison.contains) { throw Failure(transient: false) }
        if texts.contains(where: exhausting.contains) { throw Failure(transient: true, exhaustion: true) }
        var rejections: [Rejection] = []
        var committed: [String] = []
        for (index, text) in texts.enumerated() {
            if waiting.contains(text) {
                waited.withLock { $0 += 1 }
                rejections.append(Rejection(index: index, reason: "waiting: \(text)", mayWaitForPrerequisite: true))
            } else if malformed.contains(text) {
                rejections.append(Rejection(index: index, reason: "malformed: \(text)"))
            } else {
                committed.append(text)
            }
        }
        state.withLock {
            $0.committed += committed
            $0.batches.append(batch.count)
        }
        return rejections
    }

    static let isTransient: @Sendable (any Error) -> Bool = { ($0 as? Failure)?.transient ?? false }
    static let isExhaustion: @Sendable (any Error) -> Bool = { ($0 as? Failure)?.exhaustion ?? false }
}

@Suite("Batching consumer")
struct BatchingConsumerTests {
    /// Publishes `texts` to a new queue and runs a batching consumer on it until `done` holds, then for
    /// `settle` more; returns what is left on the queue afterwards (nothing, when every message was acked).
    @discardableResult
    static func run<Handler: BatchHandler>(
        _ texts: [String],
        handler: Handler,
        configure: (inout BatchConfiguration) -> Void = { _ in },
        settle: Duration = .zero,
        until done: @escaping @Sendable () -> Bool
    ) async throws -> [AMQPDelivery] {
        var configuration = BatchConfiguration()
        configuration.maximumBatchSize = 50
        configuration.minimumRetryDelay = .milliseconds(10)
        configure(&configuration)
        return try await TestEnvironment.withConnection { [configuration] connection in
            let queue = Topology.Queue(name: TestEnvironment.unique("test.batch"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [queue]))
            try await connection.publish(texts.map {
                OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array($0.utf8), messageID: $0)
            })
            let consumer = BatchingConsumer(
                queue: queue, consumerConnection: connection, publisher: connection, handler: handler,
                configuration: configuration, isTransient: RecordingHandler.isTransient, isResourceExhaustion: RecordingHandler.isExhaustion,
                describe: { "described: \($0)" }, logger: TestEnvironment.logger
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                defer { group.cancelAll() }
                #expect(await eventually { done() })
                // An ack the broker did not expect would close the channel and bring messages back meanwhile.
                try await Task.sleep(for: settle)
            }
            return try await connection.consume(queue: queue.name, prefetch: 10).take(1, within: .milliseconds(500))
        }
    }

    func run(
        _ texts: [String],
        handler: RecordingHandler,
        configure: (inout BatchConfiguration) -> Void = { _ in },
        until done: @escaping @Sendable () -> Bool
    ) async throws {
        try await Self.run(texts, handler: handler, configure: configure, until: done)
    }

    @Test("messages are committed in batches no larger than the maximum, each once")
    func batches() async throws {
        let texts = (0..<500).map { "m\($0)" }
        let handler = RecordingHandler()
        try await run(texts, handler: handler) { handler.committed.count >= 500 }
        #expect(Set(handler.committed) == Set(texts))
        #expect(handler.committed.count == 500)
        #expect(handler.batchSizes.allSatisfy { $0 <= 50 })
        #expect(handler.batchSizes.contains { $0 > 1 })
    }

    @Test("with several batches in flight every message is still committed exactly once and acked")
    func concurrentBatches() async throws {
        let texts = (0..<600).map { "k\($0)" }
        let handler = RecordingHandler()
        try await run(texts, handler: handler, configure: { $0.concurrency = 3 }) { handler.committed.count >= 600 }
        #expect(handler.committed.count == 600)
        #expect(Set(handler.committed) == Set(texts))
    }

    @Test("a transient failure retries the same batch without dead-lettering anything")
    func transientRetry() async throws {
        let texts = (0..<20).map { "t\($0)-\(TestEnvironment.unique("x"))" }
        let handler = RecordingHandler(transientFailures: 3)
        try await run(texts, handler: handler) { handler.committed.count >= 20 }
        #expect(handler.committed.sorted() == texts.sorted())
    }

    @Test("a batch the database cannot take for lack of resources is retried a bounded number of times, then split; the culprit is dead-lettered")
    func exhaustionSplits() async throws {
        let culprit = TestEnvironment.unique("huge")
        let texts = ["a-\(culprit)", culprit, "b-\(culprit)"]
        let handler = RecordingHandler(exhausting: [culprit])
        try await run(texts, handler: handler, configure: { $0.maximumExhaustionRetries = 2 }) { handler.committed.count >= 2 }
        #expect(handler.committed.sorted() == ["a-\(culprit)", "b-\(culprit)"])
        let letter = try await DeadLetterProbe.waitFor(messageID: culprit)
        #expect(letter.reason == "processing failed: described: disk full")
    }

    @Test("a dead letter holding NUL characters (organisation, reason, headers) is archived, not requeued for ever")
    func nulDeadLetter() async throws {
        let id = TestEnvironment.unique("nul-letter")
        try await TestEnvironment.withConnection { connection in
            try await connection.publish(OutgoingMessage(
                exchange: Topology.deadLetterExchange, routingKey: "practice.sms.sent",
                body: Array(#"{"organisation_id":"org\u0000x","data":{}}"#.utf8), messageID: id,
                headers: [DeadLetter.reasonHeader: .string("bad\u{0}reason"), DeadLetter.queueHeader: .string("test.queue"), "x-note": .string("a\u{0}b")]
            ))
        }
        let letter = try await DeadLetterProbe.waitFor(messageID: id)
        #expect(letter.reason == "bad\u{FFFD}reason")
        #expect(letter.organisationID == "org\u{FFFD}x")
    }

    @Test("a message waiting for its prerequisite is tried again apart from the batches, and handed back, never dead-lettered, when the consumer stops")
    func waitingThenStopped() async throws {
        let early = TestEnvironment.unique("early")
        let texts = ["a-\(early)", early, "b-\(early)"] + (0..<20).map { "later-\($0)-\(early)" }
        let handler = RecordingHandler(waiting: [early])
        let left = try await Self.run(texts, handler: handler, configure: { $0.prerequisiteWait = .seconds(60) }) {
            // The others commit while it waits; it is tried again (at least twice) without holding them up.
            handler.committed.count >= texts.count - 1 && handler.waitedCount >= 3
        }
        // Still on its queue, so neither acked nor dead-lettered (a dead letter is acked on its own queue).
        #expect(left.map { String(decoding: $0.body, as: UTF8.self) } == [early], "the waiting message goes back to its queue")
    }

    @Test("a message the handler rejects is dead-lettered with its reason, the rest committed")
    func rejectionDeadLetters() async throws {
        let bad = TestEnvironment.unique("bad")
        let texts = ["a-\(bad)", bad, "b-\(bad)"]
        let handler = RecordingHandler(malformed: [bad])
        try await run(texts, handler: handler) { handler.committed.count >= 2 }
        #expect(handler.committed.sorted() == ["a-\(bad)", "b-\(bad)"])
        let letter = try await DeadLetterProbe.waitFor(messageID: bad)
        #expect(letter.reason == "malformed: \(bad)")
        #expect(letter.queue.hasPrefix("test.batch"))
    }

    @Test("a poison message fails its batch, which is split so the others commit and it is dead-lettered")
    func poisonIsolated() async throws {
        let poison = TestEnvironment.unique("poison")
        let texts = (0..<10).map { "p\($0)-\(poison)" } + [poison]
        let handler = RecordingHandler(poison: [poison])
        try await run(texts, handler: handler, configure: { $0.maximumWait = .milliseconds(200) }) { handler.committed.count >= 10 }
        #expect(handler.committed.count == 10)
        #expect(!handler.committed.contains(poison))
        let letter = try await DeadLetterProbe.waitFor(messageID: poison)
        #expect(letter.reason.contains("poison message"))
    }
}

/// A handler that blocks until cancelled, as a transaction would while the process stops.
final class BlockingHandler: BatchHandler {
    private let started = Mutex(false)
    var hasStarted: Bool { started.withLock { $0 } }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        started.withLock { $0 = true }
        try await Task.sleep(for: .seconds(60))
        return []
    }
}

@Suite("Batching consumer: interruption")
struct BatchingConsumerInterruptionTests {
    @Test("a batch interrupted by cancellation is requeued, never dead-lettered")
    func cancellationRequeues() async throws {
        try await TestEnvironment.withConnection { connection in
            let queue = Topology.Queue(name: TestEnvironment.unique("test.interrupt"), bindings: [TestEnvironment.unique("test.key")], expiresAfter: .seconds(900))
            try await connection.declare(.commlog(queues: [queue]))
            let id = TestEnvironment.unique("interrupted")
            try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: queue.bindings[0], body: Array("x".utf8), messageID: id))
            let handler = BlockingHandler()
            let consumer = BatchingConsumer(queue: queue, consumerConnection: connection, publisher: connection, handler: handler,
                                            isTransient: { _ in false }, logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                try await waitUntil("started") { handler.hasStarted }
                group.cancelAll()
            }
            let again = try await connection.consume(queue: queue.name, prefetch: 1).take(1, within: .seconds(10))
            #expect(again.first?.properties.messageID == id)
            again.first?.ack()
            await #expect(throws: DeadLetterProbe.NotFound.self) { try await DeadLetterProbe.waitFor(messageID: id, timeout: .seconds(2)) }
        }
    }
}

/// A handler whose batches take random times, so that batches in flight finish out of order; messages named
/// `dir…` are ordering barriers, and it records whether one was ever handled beside another batch.
final class OutOfOrderHandler: BatchHandler {
    private let state = Mutex<(committed: [String], inFlight: Int, barrierOverlaps: Int)>(([], 0, 0))

    var committed: [String] { state.withLock { $0.committed } }
    var barrierOverlaps: Int { state.withLock { $0.barrierOverlaps } }

    func isOrderingBarrier(_ delivery: AMQPDelivery) -> Bool { [delivery].texts[0].hasPrefix("dir") }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        let barrier = batch.contains(where: isOrderingBarrier)
        state.withLock { state in
            state.inFlight += 1
            if barrier && state.inFlight > 1 { state.barrierOverlaps += 1 }
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...25)))
        state.withLock { state in
            if barrier && state.inFlight > 1 { state.barrierOverlaps += 1 }
            state.inFlight -= 1
            state.committed += batch.texts
        }
        return []
    }
}

@Suite("Batching consumer: batches finishing out of order")
struct OutOfOrderBatchTests {
    @Test("batches that finish out of order are acked in delivery order (nothing redelivered), and barrier batches run alone")
    func acksInOrder() async throws {
        let texts = (0..<2_000).map { $0 % 250 == 7 ? "dir\($0)" : "m\($0)" }
        let handler = OutOfOrderHandler()
        let leftovers = try await BatchingConsumerTests.run(texts, handler: handler, configure: {
            $0.maximumBatchSize = 40
            $0.concurrency = 4
        }, settle: .seconds(1)) { handler.committed.count >= texts.count }
        #expect(handler.committed.count == texts.count, "no message was delivered again")
        #expect(Set(handler.committed) == Set(texts))
        #expect(handler.barrierOverlaps == 0, "a batch with a barrier never shares the consumer with another")
        #expect(leftovers.isEmpty, "every message was acked")
    }
}
