import Synchronization

/// An attempt that did not finish in time: it was cancelled and left behind.
public struct AttemptTimedOut: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "no answer within \(timeout): the attempt was abandoned" }
}

/// Runs `operation` in a task of its own and waits for it until `timeout` passes or the calling task is
/// cancelled; then cancels it and throws (`AttemptTimedOut`, `CancellationError`) without waiting for it to end.
///
/// For work that may never end by itself: a database client that lost track of a request (seen after a
/// PostgreSQL restart: a batch's transaction waited for ever while the server's connections sat idle, and the
/// program could not even stop). The abandoned task ends when it ends; what it does meanwhile must be safe to do
/// again, as a consumer's idempotent batch is.
public func abandoning<Result: Sendable>(after timeout: Duration, _ operation: @escaping @Sendable () async throws -> Result) async throws -> Result {
    let outcome = OnceContinuation<Result>()
    let work = Task {
        do {
            outcome.resume(with: .success(try await operation()))
        } catch {
            outcome.resume(with: .failure(error))
        }
    }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        if !Task.isCancelled { outcome.resume(with: .failure(AttemptTimedOut(timeout: timeout))) }
    }
    defer {
        timer.cancel()
        work.cancel()
    }
    return try await withTaskCancellationHandler {
        try await outcome.wait()
    } onCancel: {
        outcome.resume(with: .failure(CancellationError()))
    }
}

/// A continuation resumed once, by whoever comes first, even before anyone waits on it.
private final class OnceContinuation<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case done(Swift.Result<Value, any Error>)
        case finished
    }

    private let state = Mutex(State.idle)

    func wait() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Swift.Result<Value, any Error>? in
                guard case .done(let result) = state else {
                    state = .waiting(continuation)
                    return nil
                }
                state = .finished
                return result
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    func resume(with result: Swift.Result<Value, any Error>) {
        let waiting = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            switch state {
            case .idle:
                state = .done(result)
                return nil
            case .waiting(let continuation):
                state = .finished
                return continuation
            case .done, .finished:
                return nil
            }
        }
        waiting?.resume(with: result)
    }
}
