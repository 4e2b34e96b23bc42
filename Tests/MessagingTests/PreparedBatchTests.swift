import Messaging
import Synchronization
import Testing
import TestSupport

/// A handler with a preparing step (as email-ingestor parses mail there): it notes when each delivery is prepared
/// and when each batch is handled, and checks that what it is handed was prepared from the delivery beside it.
final class PreparingHandler: BatchHandler {
    struct Poisoned: Error, CustomStringConvertible {
        var description: String { "poison message" }
    }

    private struct State {
        var events: [String] = []
        var committed: [String] = []
        var misaligned: [String] = []
        /// The keys of the batches being handled now, and the most batches handled at once.
        var handling: [Set<String>] = []
        var mostAtOnce = 0
        var sharedWhileHandled: [String] = []
    }

    private let state = Mutex(State())
    /// A body that fails any batch it is in (the batch is split) and is rejected alone.
    let poison: String?
    /// How long each batch takes to commit.
    let commitTime: Duration

    /// A delivery's ordering key, from its body.
    let key: @Sendable (String) -> String?

    init(poison: String? = nil, commitTime: Duration = .zero, key: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.poison = poison
        self.commitTime = commitTime
        self.key = key
    }

    var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }
    /// Keys found in two batches handled at the same time.
    var sharedWhileHandled: [String] { state.withLock { $0.sharedWhileHandled } }

    func orderingKeys(_ delivery: AMQPDelivery, prepared: String) -> [String] {
        key(String(prepared.dropFirst("prepared:".count))).map { [$0] } ?? []
    }

    var events: [String] { state.withLock { $0.events } }
    var committed: [String] { state.withLock { $0.committed } }
    var misaligned: [String] { state.withLock { $0.misaligned } }

    func prepare(_ delivery: AMQPDelivery) -> String {
        let text = String(decoding: delivery.body, as: UTF8.self)
        state.withLock { $0.events.append("prepared \(text)") }
        return "prepared:" + text
    }

    func handle(_ batch: [AMQPDelivery], prepared: [String]) async throws -> [Rejection] {
        let texts = batch.map { String(decoding: $0.body, as: UTF8.self) }
        state.withLock { state in
            state.misaligned += zip(texts, prepared).filter { "prepared:" + $0 != $1 }.map(\.0)
            if prepared.count != batch.count { state.misaligned.append("\(prepared.count) prepared for \(batch.count)") }
        }
        if let poison, texts.contains(poison) {
            guard batch.count == 1 else { throw Poisoned() }
            return [Rejection(index: 0, reason: "poison message")]
        }
        let keys = Set(texts.compactMap(key))
        state.withLock { state in
            state.events.append("begin \(texts[0])")
            for other in state.handling { state.sharedWhileHandled += other.intersection(keys) }
            state.handling.append(keys)
            state.mostAtOnce = max(state.mostAtOnce, state.handling.count)
        }
        try await Task.sleep(for: commitTime)
        state.withLock { state in
            state.events.append("commit \(texts[0])")
            state.committed += texts
            state.handling.remove(at: state.handling.firstIndex(of: keys)!)
        }
        return []
    }
}

@Suite("Batching consumer: preparing")
struct PreparedBatchTests {
    @Test("with one batch at a time the next batch is prepared while the one before commits, and batches still commit in order")
    func preparedAhead() async throws {
        let texts = (0..<200).map { "a\($0)" }
        let handler = PreparingHandler(commitTime: .milliseconds(100))
        try await BatchingConsumerTests.run(texts, handler: handler, configure: { $0.prefetch = 200 }) { handler.committed.count >= 200 }
        #expect(handler.committed == texts, "one batch at a time: delivery order")
        #expect(handler.misaligned.isEmpty)
        // Batches of 50: a0, a50, a100 and a150 begin them. Each later batch was prepared whole before the batch
        // before it committed.
        let events = handler.events
        for (earlier, later) in [("a0", "a50"), ("a50", "a100"), ("a100", "a150")] {
            let committed = try #require(events.firstIndex(of: "commit \(earlier)"))
            let prepared = try #require(events.firstIndex(of: "prepared a\(Int(later.dropFirst())! + 49)"))
            let began = try #require(events.firstIndex(of: "begin \(later)"))
            #expect(prepared < committed && committed < began, "\(later)'s batch prepared by \(prepared), \(earlier)'s committed at \(committed), \(later)'s began at \(began)")
        }
    }

    @Test("batches without a key in common overlap; a batch that shares a key with one in flight waits for it, so what shares a key commits in delivery order")
    func orderingKeys() async throws {
        let texts = (0..<300).map { "c\($0)" }
        let free = PreparingHandler(commitTime: .milliseconds(100))
        try await BatchingConsumerTests.run(texts, handler: free, configure: { $0.concurrency = 3 }) { free.committed.count >= 300 }
        #expect(free.mostAtOnce > 1, "no keys: batches overlap")
        #expect(Set(free.committed) == Set(texts))

        // Keys shared by neighbouring batches of 50 (c0 and c60, c10 and c70, ...): each batch waits for the one before.
        let chained = PreparingHandler(commitTime: .milliseconds(50)) { text in "key-\(Int(text.dropFirst())! % 60)" }
        try await BatchingConsumerTests.run(texts, handler: chained, configure: { $0.concurrency = 3 }) { chained.committed.count >= 300 }
        #expect(chained.sharedWhileHandled.isEmpty)
        #expect(chained.mostAtOnce == 1)
        #expect(chained.committed == texts, "each batch waited for the one before it")

        // Only the first and the last batch share a key (c0 and c299): the batches between overlap, the last waits.
        let ends = PreparingHandler(commitTime: .milliseconds(100)) { text in ["c0", "c299"].contains(text) ? "ends" : nil }
        try await BatchingConsumerTests.run(texts, handler: ends, configure: { $0.concurrency = 3 }) { ends.committed.count >= 300 }
        #expect(ends.sharedWhileHandled.isEmpty)
        #expect(ends.mostAtOnce > 1)
        let events = ends.events
        #expect(try #require(events.firstIndex(of: "commit c0")) < #require(events.firstIndex(of: "begin c250")))
    }

    @Test("a batch split by a poison message hands each delivery what was prepared from it; the poison is dead-lettered")
    func splitKeepsPrepared() async throws {
        let poison = TestEnvironment.unique("prepared-poison")
        let texts = (0..<10).map { "b\($0)-\(poison)" } + [poison] + (10..<20).map { "b\($0)-\(poison)" }
        let handler = PreparingHandler(poison: poison)
        let left = try await BatchingConsumerTests.run(texts, handler: handler, configure: { $0.maximumWait = .milliseconds(200) }) {
            handler.committed.count >= 20
        }
        #expect(handler.committed.sorted() == texts.filter { $0 != poison }.sorted())
        #expect(handler.misaligned.isEmpty)
        #expect(left.isEmpty)
        let letter = try await DeadLetterProbe.waitFor(messageID: poison)
        #expect(letter.reason.contains("poison message"))
    }
}
