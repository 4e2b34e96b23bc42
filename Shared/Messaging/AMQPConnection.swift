internal import CRabbitMQ
import Foundation
import Logging
import Tracing
import ServiceLifecycle
import Synchronization

/// One connection to RabbitMQ, confined to a thread of its own, that reconnects by itself.
///
/// rabbitmq-c is blocking and not thread-safe, so every call into it happens on the connection's
/// thread; tasks hand it work through a job queue and are resumed when the broker has answered.
/// The topology, the consumers and unconfirmed publishes survive a reconnect: topology is declared
/// again, consumers are started again, and messages the broker had not confirmed are published again.
public final class AMQPConnection: Service, Sendable {
    /// Work handed to the connection thread.
    enum Job: Sendable {
        case publish(PublishRequest)
        case settle(Settlement, tag: UInt64, channel: UInt16, generation: UInt64)
        case declare(Topology, ControlRequest)
        case deleteQueue(String, ControlRequest)
        case consume(ConsumerRegistration)
        case cancelConsumer(id: Int)
        case shutdown(CheckedContinuation<Void, Never>)
    }

    public let configuration: AMQPConfiguration
    let logger: Logger
    /// Work for the connection thread, and whether the thread has ended (then work is refused at once).
    private let jobs = Mutex<(queue: [Job], closed: Bool)>(([], false))
    private let wakeup: Wakeup
    private let connected = Atomic<Bool>(false)
    private let nextConsumerID = Atomic<Int>(0)

    /// Starts the connection thread, which connects in the background and keeps reconnecting until `shutdown()`.
    public init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.wakeup = Wakeup()
        let connection = WeakReference(self)
        // Made on its thread and never leaving it: the loop and its rabbitmq-c connection are not thread-safe.
        let thread = Thread { ConnectionLoop(configuration: configuration, logger: logger, connection: connection).run() }
        thread.name = "amqp-\(configuration.connectionName)"
        thread.start()
    }

    /// Whether the connection is up right now (for readiness checks).
    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// Runs until graceful shutdown, then closes the connection after the services that use it have stopped.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes the connection; pending publishes fail with `.shutdown`, consumers end. Idempotent: once closed,
    /// it returns at once, and every later publish, declare or consume fails with `.shutdown` at once.
    public func shutdown() async {
        await withCheckedContinuation { continuation in submit(.shutdown(continuation)) }
    }

    /// Declares exchanges, queues and bindings now and again after every reconnect.
    /// Waits for a connection if there is none yet.
    public func declare(_ topology: Topology) async throws {
        try await control { .declare(topology, $0) }
    }

    /// Deletes a queue and its messages, and stops declaring it after reconnects (benchmarks and tests clean up with it).
    public func deleteQueue(_ name: String) async throws {
        try await control { .deleteQueue(name, $0) }
    }

    /// Hands a control operation to the connection thread and waits for it; cancelling the task ends the wait
    /// with `CancellationError` (the operation is then skipped if it has not run yet). While the broker is
    /// unreachable such a wait lasts until it is back, so a program stopping meanwhile must be able to cancel it.
    private func control(_ job: (ControlRequest) -> Job) async throws {
        let request = ControlRequest()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if request.start(continuation) { submit(job(request)) }
            }
        } onCancel: {
            request.complete(throwing: CancellationError())
        }
    }

    /// Publishes one message and returns when the broker has confirmed it.
    public func publish(_ message: OutgoingMessage, timeout: Duration = .seconds(30)) async throws {
        try await publish([message], timeout: timeout)
    }

    /// Publishes the messages with all of them in flight at once and returns when the broker has confirmed
    /// every one. Messages caught by a reconnect are published again (consumers are idempotent), until
    /// `timeout`. Throws `.unroutable` when a message reached no queue, `.publishRejected` on a broker nack.
    public func publish(_ messages: [OutgoingMessage], timeout: Duration = .seconds(30)) async throws {
        guard !messages.isEmpty else { return }
        // The trace this publish belongs to travels with each message (nothing is added with tracing off).
        var messages = messages
        if ServiceContext.current != nil {
            for index in messages.indices { messages[index].headers = MessageTracing.injectingCurrentContext(into: messages[index].headers) }
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        try await withCheckedThrowingContinuation { continuation in
            submit(.publish(PublishRequest(messages: messages, deadline: deadline, continuation: continuation)))
        }
    }

    /// Starts consuming `queue` with at most `prefetch` unsettled deliveries; the consumer is restarted after reconnects.
    public func consume(queue: String, prefetch: Int) -> AMQPDeliveries {
        let id = nextConsumerID.add(1, ordering: .relaxed).newValue
        let buffer = DeliveryBuffer()
        submit(.consume(ConsumerRegistration(id: id, queue: queue, prefetch: UInt16(clamping: prefetch), buffer: buffer)))
        return AMQPDeliveries(buffer: buffer, cancellation: .init { [weak self] in self?.submit(.cancelConsumer(id: id)) })
    }

    // MARK: Thread side

    func submit(_ job: Job) {
        let accepted = jobs.withLock { jobs -> Bool in
            guard !jobs.closed else { return false }
            jobs.queue.append(job)
            return true
        }
        if accepted { wakeup.signal() } else { Self.refuse(job) }
    }

    func takeJobs() -> [Job] {
        jobs.withLock { jobs in
            defer { jobs.queue.removeAll(keepingCapacity: true) }
            return jobs.queue
        }
    }

    /// The connection thread has ended: refuses what it did not take, and everything submitted from now on.
    func close() {
        let left = jobs.withLock { jobs -> [Job] in
            jobs.closed = true
            defer { jobs.queue = [] }
            return jobs.queue
        }
        for job in left { Self.refuse(job) }
    }

    /// Ends a job the connection thread will never run: its waiter hears `.shutdown` (a shutdown, that it is done).
    private static func refuse(_ job: Job) {
        let error = AMQPError.connectionClosed
        switch job {
        case .publish(let request): request.continuation.resume(throwing: error)
        case .declare(_, let request), .deleteQueue(_, let request): request.complete(throwing: error)
        case .consume(let registration): registration.buffer.finish(throwing: error)
        case .shutdown(let continuation): continuation.resume()
        case .settle, .cancelConsumer: break
        }
    }

    var wakeupDescriptor: Int32 { wakeup.descriptor }

    func drainWakeup() { wakeup.drain() }

    func setConnected(_ value: Bool) { connected.store(value, ordering: .relaxed) }
}

extension AMQPConnection: DeliverySettler {
    func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, generation: UInt64) {
        submit(.settle(settlement, tag: tag, channel: channel, generation: generation))
    }
}

/// The loop holds its connection weakly: when the last user lets go, the thread ends.
struct WeakReference<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
    init(_ value: T) { self.value = value }
}

/// A declare or delete waiting for the connection thread, resumed once: by the thread, or by cancellation.
final class ControlRequest: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Void, any Error>?, cancelled: Bool)>((nil, false))

    /// Keeps the continuation; false (and resumed with `CancellationError`) when already cancelled.
    func start(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.continuation = continuation
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Whether nobody waits for it any more (cancelled): the thread skips it.
    var isAbandoned: Bool { state.withLock { $0.cancelled } }

    func complete(throwing error: (any Error)? = nil) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if error is CancellationError { state.cancelled = true }
            defer { state.continuation = nil }
            return state.continuation
        }
        if let error { continuation?.resume(throwing: error) } else { continuation?.resume() }
    }
}

/// A batch of messages to publish and the task waiting for the broker to confirm them all.
struct PublishRequest: Sendable {
    let messages: [OutgoingMessage]
    let deadline: ContinuousClock.Instant
    let continuation: CheckedContinuation<Void, any Error>
}

/// A consumer as registered by `consume`, restarted on every new connection.
struct ConsumerRegistration: Sendable {
    let id: Int
    let queue: String
    let prefetch: UInt16
    let buffer: DeliveryBuffer
}

/// An eventfd that wakes the connection thread out of `poll` when a job arrives.
final class Wakeup: Sendable {
    let descriptor: Int32

    init() {
        descriptor = commlog_eventfd()
        precondition(descriptor >= 0, "eventfd failed: \(errno)")
    }

    deinit { close(descriptor) }

    func signal() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
    }

    func drain() {
        var value: UInt64 = 0
        _ = read(descriptor, &value, MemoryLayout<UInt64>.size)
    }
}
