import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Processes a batch of deliveries in one database transaction.
public protocol BatchHandler: Sendable {
    /// What `prepare` makes of one delivery; `Void` for a handler that does all its work in `handle`.
    associatedtype Prepared: Sendable = Void

    /// The work on one delivery that needs neither the database nor any other delivery (checking, decoding,
    /// parsing). The consumer does it while the batch before is still being committed, with any concurrency,
    /// so that it is off the path between two commits. It may run more than once for a delivery that is tried
    /// again; it must not throw: a delivery that cannot be prepared carries its error to `handle`.
    func prepare(_ delivery: AMQPDelivery) -> Prepared

    /// Commits what can be committed of `batch` in one transaction and returns the deliveries that can never be
    /// processed (bad JSON, unknown organisation), each with its reason; those are dead-lettered, the rest acked.
    /// Throwing means nothing was committed. `prepared` holds what `prepare` made of each delivery, in order.
    func handle(_ batch: [AMQPDelivery], prepared: [Prepared]) async throws -> [Rejection]

    /// `handle(_:prepared:)`, preparing the batch first.
    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection]

    /// Whether this delivery changes what later deliveries depend on (a directory change): a batch holding one
    /// is processed alone, after every batch before it and before any after it, whatever the concurrency.
    /// With concurrency 1 every batch is processed that way anyway.
    func isOrderingBarrier(_ delivery: AMQPDelivery) -> Bool

    /// What a delivery's processing reads and writes that another delivery's may too (for mail, a Message-ID in
    /// an organisation): a batch that shares a key with a batch in flight waits until that one is done, so
    /// deliveries that share a key commit in delivery order whatever the concurrency. Batches without a key in
    /// common overlap freely.
    /// Neither keys nor barriers order a delivery waiting for its prerequisite (`Rejection.mayWaitForPrerequisite`):
    /// it is tried again apart from the batches, so a handler whose order matters that way must not ask to wait
    /// (email-ingestor, the one handler with keys, never does; reminder-logger's waiting events are those of an
    /// organisation not yet known, and a directory change retried late cannot undo a newer one: every upsert
    /// and delete carries its event's time, and an older never overwrites a newer).
    func orderingKeys(_ delivery: AMQPDelivery, prepared: Prepared) -> [String]
}

extension BatchHandler {
    /// By default nothing is a barrier: batches only ever overlap with concurrency above 1.
    public func isOrderingBarrier(_ delivery: AMQPDelivery) -> Bool { false }

    /// By default no keys.
    public func orderingKeys(_ delivery: AMQPDelivery, prepared: Prepared) -> [String] { [] }

    public func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        try await handle(batch, prepared: batch.map(prepare))
    }
}

extension BatchHandler where Prepared == Void {
    /// A handler without a preparing step implements `handle(_:)` alone.
    public func prepare(_ delivery: AMQPDelivery) {}

    public func handle(_ batch: [AMQPDelivery], prepared: [Void]) async throws -> [Rejection] {
        try await handle(batch)
    }
}

/// A delivery of a batch that can never be processed, and why.
public struct Rejection: Sendable, Equatable {
    /// Position of the delivery in the batch.
    public var index: Int
    public var reason: String
    /// Whether what the delivery needs may still arrive (its organisation, upserted through another replica or
    /// a batch still committing): the consumer tries it again for `BatchConfiguration.prerequisiteWait` before
    /// dead-lettering it with `reason`.
    public var mayWaitForPrerequisite: Bool

    public init(index: Int, reason: String, mayWaitForPrerequisite: Bool = false) {
        self.index = index
        self.reason = reason
        self.mayWaitForPrerequisite = mayWaitForPrerequisite
    }
}

/// The consumer loop every worker shares: up to N deliveries or T milliseconds make a batch, the handler
/// commits it in one transaction, then the batch is acked.
///
/// - A transient failure (the database went away) keeps the batch and retries it with backoff, so an outage
///   does not use up delivery attempts; on shutdown the batch is requeued instead.
/// - Any other failure splits the batch and processes its messages one by one, so one bad message cannot hold
///   up the rest; a message that fails alone is dead-lettered with the error as its reason.
/// - A message that crashes the process every time reaches the delivery limit: the consumer dead-letters it
///   when the broker delivers it again (`BatchConfiguration.deliveryLimit`), and the broker's policy does the
///   same (`delivery-limit`) when nothing consumes it.
public struct BatchingConsumer<Handler: BatchHandler>: Service {
    public typealias Configuration = BatchConfiguration

    let queue: Topology.Queue
    let consumerConnection: AMQPConnection
    let publisher: AMQPConnection
    let handler: Handler
    let configuration: Configuration
    let isTransient: @Sendable (any Error) -> Bool
    let isResourceExhaustion: @Sendable (any Error) -> Bool
    let describe: @Sendable (any Error) -> String
    let onDeclared: @Sendable () -> Void
    let logger: Logger

    /// - Parameters:
    ///   - consumerConnection: the connection deliveries come from.
    ///   - publisher: the connection dead letters are published on (may be the same).
    ///   - isTransient: whether an error is worth retrying unchanged (connection failures, deadlocks).
    ///   - isResourceExhaustion: among those, the ones that may be caused by the batch itself (the database out
    ///     of memory or disk): retried `maximumExhaustionRetries` times, then the batch is split.
    ///   - describe: the reason an error gives in a dead letter (readable, without secrets).
    ///   - onDeclared: called once the queue is declared (readiness: publishers are no longer refused).
    public init(
        queue: Topology.Queue,
        consumerConnection: AMQPConnection,
        publisher: AMQPConnection,
        handler: Handler,
        configuration: Configuration = .init(),
        isTransient: @escaping @Sendable (any Error) -> Bool,
        isResourceExhaustion: @escaping @Sendable (any Error) -> Bool = { _ in false },
        describe: @escaping @Sendable (any Error) -> String = { "\($0)" },
        onDeclared: @escaping @Sendable () -> Void = {},
        logger: Logger
    ) {
        self.queue = queue
        self.consumerConnection = consumerConnection
        self.publisher = publisher
        self.handler = handler
        self.configuration = configuration
        self.isTransient = isTransient
        self.isResourceExhaustion = isResourceExhaustion
        self.describe = describe
        self.onDeclared = onDeclared
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue.name)"
        self.logger = logger
    }

    public func run() async throws {
        // While the broker is unreachable the declaration waits; a stop meanwhile ends it (nothing was consumed).
        do {
            try await cancelWhenGracefulShutdown { [consumerConnection, queue] in try await consumerConnection.declare(.commlog(queues: [queue])) }
        } catch is CancellationError where Task.isShuttingDownGracefully || Task.isCancelled {
            logger.info("stopped before the queue was declared")
            return
        }
        onDeclared()
        let deliveries = consumerConnection.consume(queue: queue.name, prefetch: configuration.prefetch)
        logger.info("consuming")
        try await withGracefulShutdownHandler {
            // Up to `concurrency` batches in flight, each its own transaction: while one commits, the next
            // is decoded and written, so neither this process nor the database waits for the other. A batch
            // with an ordering barrier (a directory change) waits for those before it and holds back those after;
            // one that shares an ordering key with a batch in flight waits for that one.
            // Acks go out in delivery order whatever order batches finish in, one multiple-ack for every run
            // of finished batches: the broker settles a batch with one frame instead of one per message.
            let acks = AckSequencer()
            let waiting = WaitingDeliveries(firstDelay: configuration.minimumRetryDelay)
            // Each batch task returns its ticket (the retrying task nil), so that its keys leave `inFlight`.
            try await withThrowingTaskGroup(of: Int?.self) { group in
                // Deliveries waiting for a prerequisite are tried again apart from the batches, holding no slot.
                group.addTask {
                    await retryWaiting(waiting, acks: acks)
                    return nil
                }
                // The ordering keys of the batches in flight, by ticket.
                var inFlight: [Int: Set<String>] = [:]
                while true {
                    let batch = try await deliveries.nextBatch(maximum: configuration.maximumBatchSize, maximumWait: configuration.maximumWait)
                    if batch.isEmpty { break }
                    // Prepared here, while the batches in flight commit: with concurrency 1 too, the next batch's
                    // decoding and parsing are done by the time the one before has committed. A batch holding a
                    // delivery at the delivery limit is not: that delivery may be the one that crashes the
                    // process, so it is dead-lettered unprepared, and the batch's others are prepared after it,
                    // with the batch processed alone (its ordering keys are not known before).
                    let prepared = batch.contains(where: isSpent) ? nil : batch.map(handler.prepare)
                    let alone = configuration.concurrency > 1 && (prepared == nil || batch.contains(where: handler.isOrderingBarrier))
                    let keys = configuration.concurrency > 1 ? Set(zip(batch, prepared ?? []).flatMap { handler.orderingKeys($0, prepared: $1) }) : []
                    while inFlight.count == configuration.concurrency || (alone && !inFlight.isEmpty)
                        || inFlight.values.contains(where: { !$0.isDisjoint(with: keys) }) {
                        if let finished = try await group.next() ?? nil { inFlight[finished] = nil }
                    }
                    let ticket = acks.register()
                    if alone {
                        let outcome = await process(delivered: batch, prepared: prepared)
                        acks.complete(ticket, settled: outcome.settled, waiting: outcome.waiting.count)
                        waiting.add(outcome.waiting, since: .now)
                    } else {
                        group.addTask {
                            let outcome = await process(delivered: batch, prepared: prepared)
                            acks.complete(ticket, settled: outcome.settled, waiting: outcome.waiting.count)
                            waiting.add(outcome.waiting, since: .now)
                            return ticket
                        }
                        inFlight[ticket] = keys
                    }
                }
                waiting.finish()
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            deliveries.stop()
        }
        logger.info("stopped consuming")
    }

    /// What became of a batch: the deliveries to ack (committed or dead-lettered, not those handed back to the
    /// broker), and those waiting for a prerequisite, still unsettled.
    struct Outcome {
        var settled: [AMQPDelivery] = []
        var waiting: [AMQPDelivery] = []

        static func += (left: inout Outcome, right: Outcome) {
            left.settled += right.settled
            left.waiting += right.waiting
        }
    }

    /// Whether the broker has delivered this `deliveryLimit` times before without its being settled (the program
    /// stopped while processing it each time): it is dead-lettered untried, and unprepared.
    func isSpent(_ delivery: AMQPDelivery) -> Bool {
        guard let limit = configuration.deliveryLimit, queue.deadLetterExchange != nil else { return false }
        return delivery.previousDeliveries >= limit
    }

    /// Processes a batch as it came from the broker: the spent deliveries (`isSpent`) are dead-lettered, the rest
    /// processed. `prepared`: what the handler made of each delivery, nil when the batch holds a spent one (the
    /// others are prepared once it is set aside).
    /// Traced as one consumer span, whose parent is the first delivery's trace (`MessageTracing`).
    func process(delivered batch: [AMQPDelivery], prepared: [Handler.Prepared]?) async -> Outcome {
        await MessageTracing.withBatchSpan(queue: queue.name, batch: batch) { await processWithinLimit(batch, prepared: prepared) }
    }

    private func processWithinLimit(_ batch: [AMQPDelivery], prepared: [Handler.Prepared]?) async -> Outcome {
        let spent = batch.filter(isSpent)
        guard !spent.isEmpty, let limit = configuration.deliveryLimit else { return await process(batch, prepared: prepared) }
        let rest = batch.filter { !isSpent($0) }
        let reasons = spent.indices.map { index in
            Rejection(index: index, reason: "delivered \(spent[index].previousDeliveries + 1) times without being settled (the consumer stopped while processing it each time; COMMLOG_DELIVERY_LIMIT is \(limit))")
        }
        var outcome = await settle(spent, rejections: reasons, waitingSince: .now)
        if !rest.isEmpty { outcome += await process(rest) }
        return outcome
    }

    /// Processes one batch to the end: committed, dead-lettered, requeued (nacked) on shutdown, or left waiting
    /// for a prerequisite while less than `prerequisiteWait` has passed since `waitingSince` (now when nil).
    /// `prepared`: what the handler made of each delivery already; nil to prepare them now.
    func process(_ batch: [AMQPDelivery], prepared: [Handler.Prepared]? = nil, waitingSince: ContinuousClock.Instant? = nil) async -> Outcome {
        let prepared = prepared ?? batch.map(handler.prepare)
        var delay = configuration.minimumRetryDelay
        var exhaustionRetries = 0
        while true {
            let start = ContinuousClock.now
            do {
                let rejections = try await abandoning(after: configuration.attemptTimeout) { [handler] in try await handler.handle(batch, prepared: prepared) }
                Metrics.Timer(label: "commlog_batch_duration_seconds", dimensions: [("queue", queue.name)])
                    .recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                return await settle(batch, rejections: rejections, waitingSince: waitingSince ?? start)
            } catch let error as AttemptTimedOut where !Task.isCancelled && !Task.isShuttingDownGracefully {
                // Tried again on a fresh attempt; the one left behind may still commit, which a consumer's
                // idempotent writes absorb.
                logger.error("batch attempt abandoned, retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)", "size": "\(batch.count)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, configuration.maximumRetryDelay)
            } catch where error is CancellationError || error is AttemptTimedOut || Task.isCancelled {
                // Stopped mid-batch: nothing was committed, so the messages go back; never a dead letter.
                requeue(batch)
                return Outcome()
            } catch where isTransient(error) && !(isResourceExhaustion(error) && exhaustionRetries >= configuration.maximumExhaustionRetries) {
                if Task.isShuttingDownGracefully {
                    requeue(batch)
                    return Outcome()
                }
                if isResourceExhaustion(error) { exhaustionRetries += 1 }
                logger.warning("batch failed transiently, retrying", metadata: ["error": "\(describe(error))", "retry_in": "\(delay)", "size": "\(batch.count)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, configuration.maximumRetryDelay)
            } catch {
                // Not transient, or resources still exhausted after the retries: perhaps by this batch, so smaller.
                guard batch.count > 1 else {
                    return await settle(batch, rejections: [Rejection(index: 0, reason: "processing failed: \(describe(error))")], waitingSince: start)
                }
                logger.warning("batch failed, processing its messages one by one", metadata: ["error": "\(describe(error))", "size": "\(batch.count)"])
                var outcome = Outcome()
                for (delivery, prepared) in zip(batch, prepared) { outcome += await process([delivery], prepared: [prepared], waitingSince: waitingSince) }
                return outcome
            }
        }
    }

    private func requeue(_ deliveries: [AMQPDelivery]) {
        for delivery in deliveries { delivery.nack(requeue: true) }
        count(deliveries.count, "requeued")
    }

    /// Tries the waiting deliveries again, each set after a delay that doubles from `minimumRetryDelay` up to
    /// `maximumRetryDelay`, until they are settled or `prerequisiteWait` has passed (then they are dead-lettered).
    /// Acks go out one by one: a multiple-ack would settle them with the batches around them. On shutdown the
    /// deliveries still waiting are handed back to the broker.
    private func retryWaiting(_ waiting: WaitingDeliveries, acks: AckSequencer) async {
        await withDiscardingTaskGroup { group in
            for await entry in waiting.entries {
                group.addTask {
                    var entry = entry
                    while true {
                        let delay = entry.delay
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                        if Task.isCancelled || Task.isShuttingDownGracefully {
                            requeue(entry.deliveries)
                            acks.release([], count: entry.deliveries.count)
                            return
                        }
                        let outcome = await process(entry.deliveries, waitingSince: entry.since)
                        acks.release(outcome.settled, count: entry.deliveries.count - outcome.waiting.count)
                        guard !outcome.waiting.isEmpty else { return }
                        entry.deliveries = outcome.waiting
                        entry.delay = min(entry.delay * 2, configuration.maximumRetryDelay)
                    }
                }
            }
        }
    }

    /// Dead-letters the rejected deliveries (waiting for the broker's confirm), except those that may wait for
    /// a prerequisite while there is still time, and says which to ack: all but the ones handed back to the
    /// broker or left waiting.
    private func settle(_ batch: [AMQPDelivery], rejections: [Rejection], waitingSince: ContinuousClock.Instant) async -> Outcome {
        let mayWait = ContinuousClock.now - waitingSince < configuration.prerequisiteWait && queue.deadLetterExchange != nil
        let waiting = mayWait ? rejections.filter(\.mayWaitForPrerequisite) : []
        if !waiting.isEmpty {
            logger.debug("waiting for a prerequisite", metadata: ["reasons": "\(Set(waiting.map(\.reason)))", "deliveries": "\(waiting.count)"])
            count(waiting.count, "waiting")
        }
        let waitingIndices = Set(waiting.map(\.index))
        let rejections = rejections.filter { !waitingIndices.contains($0.index) }
        var requeued = Set<Int>()
        if !rejections.isEmpty, queue.deadLetterExchange == nil {
            // The dead-letter queue itself: a message it cannot take is kept, never dead-lettered in a loop.
            logger.error("cannot process dead letters, keeping them", metadata: ["reasons": "\(rejections.map(\.reason))"])
            try? await Task.sleep(for: configuration.maximumRetryDelay)
            for rejection in rejections {
                batch[rejection.index].nack(requeue: true)
                requeued.insert(rejection.index)
            }
        } else if !rejections.isEmpty {
            let letters = rejections.map { DeadLetter(delivery: batch[$0.index], reason: $0.reason) }
            for (rejection, letter) in zip(rejections, letters) {
                logger.warning("dead-lettering a message", metadata: [
                    "reason": "\(rejection.reason)", "routing_key": "\(letter.routingKey)", "message_id": "\(letter.properties.messageID ?? "")",
                ])
            }
            do {
                try await publisher.publish(letters.map(\.outgoing))
                count(rejections.count, "dead_lettered")
            } catch {
                // Not confirmed as dead-lettered: leave the messages on their queue to try again later.
                logger.error("could not dead-letter, requeueing", metadata: ["error": "\(error)"])
                for rejection in rejections {
                    batch[rejection.index].nack(requeue: true)
                    requeued.insert(rejection.index)
                }
            }
        }
        let rejected = Set(rejections.map(\.index))
        count(batch.count - rejected.count - waitingIndices.count, "committed")
        return Outcome(
            settled: batch.enumerated().filter { !requeued.contains($0.offset) && !waitingIndices.contains($0.offset) }.map(\.element),
            waiting: waiting.map { batch[$0.index] }
        )
    }

    private func count(_ value: Int, _ outcome: String) {
        guard value > 0 else { return }
        Counter(label: "commlog_messages_total", dimensions: [("queue", queue.name), ("outcome", outcome)]).increment(by: value)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// How a `BatchingConsumer` forms batches and retries them.
public struct BatchConfiguration: Sendable {
    /// Most deliveries in one batch (one transaction). Default 500.
    public var maximumBatchSize = 500
    /// Longest wait for a batch to fill once its first delivery is there. Default 20 ms.
    public var maximumWait: Duration = .milliseconds(20)
    /// Unsettled deliveries the broker may send ahead. Default 2000 (the next batches wait while one commits).
    public var prefetch = 2000
    /// Batches processed at the same time, each in its own transaction. With 1, batches commit in the order
    /// they were delivered. More overlaps one batch's commit with the next's work; batches the handler marks
    /// as ordering barriers (directory changes) are still processed alone, in order, so what depends on them
    /// never overtakes them. Default 1; reminder-logger, whose handler marks its barriers, runs 4.
    public var concurrency = 1
    /// Delay before the first retry of a transiently failed batch; doubles up to `maximumRetryDelay`.
    public var minimumRetryDelay: Duration = .milliseconds(200)
    public var maximumRetryDelay: Duration = .seconds(10)
    /// Retries of a batch that failed because the database ran out of a resource (memory, disk) before it is
    /// split, in case the batch itself is the cause; a message that still fails alone is dead-lettered. Default 5.
    public var maximumExhaustionRetries = 5
    /// Longest one attempt at a batch may take before it is abandoned and tried again (a database client that
    /// never answers). Default 60 s; the programs set `COMMLOG_BATCH_TIMEOUT_S` (20 s).
    public var attemptTimeout: Duration = .seconds(60)
    /// How long a delivery whose prerequisite is missing (`Rejection.mayWaitForPrerequisite`: an organisation
    /// not upserted yet) is tried again before it is dead-lettered. Default 60 s.
    public var prerequisiteWait: Duration = .seconds(60)
    /// Deliveries of one message after which the consumer dead-letters it untried (it counts the broker's
    /// `x-delivery-count`), whatever the queue's policy says; nil to leave it to the broker. Default nil; the
    /// programs set `COMMLOG_DELIVERY_LIMIT`.
    public var deliveryLimit: Int?

    public init() {}
}

/// Acks finished batches in the order they were delivered.
///
/// Batches may finish out of order when several are in flight. A multiple-ack settles every outstanding
/// delivery up to its tag, so it may only be sent once every batch delivered before is settled: finished
/// batches wait here for those before them, and each run of consecutive finished batches is settled by one
/// multiple-ack (or one ack per delivery when a reconnect left deliveries of another channel among them;
/// the connection ignores acks of an old channel). Deliveries already nacked are not outstanding any more,
/// so the multiple-ack leaves them alone.
final class AckSequencer: Sendable {
    private struct State {
        var next = 0
        var issued = 0
        var finished: [Int: [AMQPDelivery]] = [:]
        /// Deliveries left unsettled by finished batches (waiting for a prerequisite): while there are any, a
        /// multiple-ack would settle them too, so every ack goes out alone.
        var held = 0
    }

    private let state = Mutex(State())

    /// A ticket for the next batch, in delivery order.
    func register() -> Int {
        state.withLock { state in
            defer { state.issued += 1 }
            return state.issued
        }
    }

    /// Records that batch `ticket` is settled, `settled` being the deliveries to ack and `waiting` the number it
    /// leaves unsettled for now, and acks what may now be acked.
    func complete(_ ticket: Int, settled: [AMQPDelivery], waiting: Int = 0) {
        // The acks are handed to the connection under the lock: two runs acked from two tasks must reach the
        // broker in order, or a multiple-ack would already have settled the earlier run's tags.
        state.withLock { state in
            state.held += waiting
            state.finished[ticket] = settled
            var ready: [AMQPDelivery] = []
            while let batch = state.finished.removeValue(forKey: state.next) {
                ready += batch
                state.next += 1
            }
            guard let last = ready.last else { return }
            if state.held == 0 && ready.allSatisfy({ $0.sharesChannel(with: last) }) {
                last.ack(multiple: true)
            } else {
                for delivery in ready { delivery.ack() }
            }
        }
    }

    /// Acks `settled`, deliveries that had been left waiting, and counts `count` of them as no longer held
    /// (acked now, or handed back to the broker).
    func release(_ settled: [AMQPDelivery], count: Int) {
        state.withLock { state in
            state.held -= count
            for delivery in settled { delivery.ack() }
        }
    }
}

/// Deliveries left waiting by finished batches, handed to the task that tries them again.
final class WaitingDeliveries: Sendable {
    struct Entry: Sendable {
        var deliveries: [AMQPDelivery]
        let since: ContinuousClock.Instant
        var delay: Duration
    }

    let entries: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation
    private let firstDelay: Duration

    init(firstDelay: Duration = .milliseconds(200)) {
        (entries, continuation) = AsyncStream.makeStream(of: Entry.self)
        self.firstDelay = firstDelay
    }

    func add(_ deliveries: [AMQPDelivery], since: ContinuousClock.Instant) {
        guard !deliveries.isEmpty else { return }
        continuation.yield(Entry(deliveries: deliveries, since: since, delay: firstDelay))
    }

    /// No more entries: the retrying task ends once those it has are settled.
    func finish() { continuation.finish() }
}
