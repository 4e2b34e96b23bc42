import Synchronization

/// The hand-over point between a connection's thread, which appends deliveries, and the task that
/// consumes them. Bounded by the consumer's prefetch, so it needs no backpressure of its own.
final class DeliveryBuffer: Sendable {
    private struct State {
        var items: [AMQPDelivery] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var nextWaiterID: UInt64 = 0
        var finished: (any Error)?
        var isFinished = false
    }

    private let state = Mutex(State())

    /// Called by the connection thread.
    func append(_ delivery: AMQPDelivery) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.isFinished else { return nil }
            state.items.append(delivery)
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume()
    }

    /// Ends the sequence after the buffered deliveries, with an error if one is given. With `discardingBuffered`
    /// it ends at once: deliveries not yet taken are left unsettled, and the broker requeues them.
    func finish(throwing error: (any Error)? = nil, discardingBuffered: Bool = false) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if discardingBuffered { state.items.removeAll() }
            guard !state.isFinished else { return nil }
            state.isFinished = true
            state.finished = error
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume()
    }

    /// Takes up to `maximum` buffered deliveries; empty when none are there.
    func take(upTo maximum: Int) -> [AMQPDelivery] {
        state.withLock { state in
            let count = min(maximum, state.items.count)
            guard count > 0 else { return [] }
            let taken = Array(state.items.prefix(count))
            state.items.removeFirst(count)
            return taken
        }
    }

    /// Nil while open; after `finish`, `.some(error)` with the error it finished with, if any.
    var termination: (any Error)?? {
        state.withLock { state in state.isFinished && state.items.isEmpty ? .some(state.finished) : nil }
    }

    /// Waits until a delivery is buffered, the buffer finishes, the deadline passes or the task is cancelled.
    func waitForDeliveries(until deadline: ContinuousClock.Instant? = nil) async {
        guard let deadline else {
            await waitUntilSignalled()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilSignalled() }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitUntilSignalled() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.items.isEmpty || state.isFinished || Task.isCancelled { return true }
                    precondition(state.waiter == nil, "one consumer task per delivery sequence")
                    state.waiter = (id, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume()
        }
    }
}
