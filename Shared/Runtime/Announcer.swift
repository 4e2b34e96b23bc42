import Logging
import Messaging
import Metrics
import ServiceLifecycle
import Synchronization
import Tracing

/// Publishes Commlog's own notifications (`communication.logged`, `call.opened`, …) off the critical path.
///
/// Writers hand their announcements over after their transaction commits and go on with the next batch; this
/// service publishes them in batches with confirms. Announcements feed live views, which are a convenience:
/// they are published at most once, and those still buffered when a process is killed are lost (counted as
/// `commlog_announcements_total{outcome="failed"}` when the broker refuses them). On shutdown the buffer is drained.
public final class Announcer: Service, Sendable {
    private struct State {
        var pending: [OutgoingMessage] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finishing = false
    }

    /// Buffered announcements beyond this are dropped (oldest first) rather than growing without bound.
    public static let bufferLimit = 100_000

    private let connection: AMQPConnection
    private let logger: Logger
    private let state = Mutex(State())

    public init(connection: AMQPConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Queues messages for publishing and returns at once.
    public func announce(_ messages: [OutgoingMessage]) {
        guard !messages.isEmpty else { return }
        // Published later, from this service's own task: the trace of the writer that announces goes with them now.
        var messages = messages
        if ServiceContext.current != nil {
            for index in messages.indices { messages[index].headers = MessageTracing.injectingCurrentContext(into: messages[index].headers) }
        }
        let (waiter, dropped) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Int) in
            state.pending += messages
            let dropped = max(0, state.pending.count - Self.bufferLimit)
            if dropped > 0 { state.pending.removeFirst(dropped) }
            defer { state.waiter = nil }
            return (state.waiter, dropped)
        }
        if dropped > 0 { count(dropped, "dropped") }
        waiter?.resume()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while true {
                let batch = await next()
                if batch.isEmpty { return }
                do {
                    try await connection.publish(batch)
                    count(batch.count, "published")
                } catch {
                    count(batch.count, "failed")
                    logger.warning("could not publish announcements", metadata: ["error": "\(error)", "count": "\(batch.count)"])
                }
            }
        } onGracefulShutdown: {
            self.finish()
        }
    }

    /// Stops waiting for more: what is buffered is still published, then `run` returns.
    private func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finishing = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything buffered, waiting until there is something; empty once shutting down with nothing left.
    private func next() async -> [OutgoingMessage] {
        while true {
            let taken = state.withLock { state -> [OutgoingMessage]? in
                if !state.pending.isEmpty {
                    defer { state.pending.removeAll(keepingCapacity: true) }
                    return state.pending
                }
                return state.finishing ? [] : nil
            }
            if let taken { return taken }
            // Cancellation (a test ending, a failed group) finishes like a graceful shutdown.
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.pending.isEmpty || state.finishing || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                finish()
            }
        }
    }

    private func count(_ value: Int, _ outcome: String) {
        Counter(label: "commlog_announcements_total", dimensions: [("outcome", outcome)]).increment(by: value)
    }
}
