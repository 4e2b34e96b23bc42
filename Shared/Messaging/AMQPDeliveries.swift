/// The deliveries of one consumer, in the order the broker sent them.
///
/// Iterate it from one task. Ending the iteration (or dropping the sequence) cancels the consumer,
/// and the broker requeues whatever was not settled.
public struct AMQPDeliveries: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery

    let buffer: DeliveryBuffer
    let cancellation: Cancellation

    /// Cancels the broker-side consumer when the last copy of the sequence goes away.
    final class Cancellation: Sendable {
        private let cancel: @Sendable () -> Void
        init(_ cancel: @escaping @Sendable () -> Void) { self.cancel = cancel }
        deinit { cancel() }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer, cancellation: cancellation)
    }

    /// Waits for the first delivery, then collects more until `maximum` or until `maximumWait` has passed.
    /// Returns an empty array once the consumer has ended (it throws if it ended with an error).
    public func nextBatch(maximum: Int, maximumWait: Duration) async throws -> [AMQPDelivery] {
        var batch: [AMQPDelivery] = []
        while batch.isEmpty {
            batch = buffer.take(upTo: maximum)
            if !batch.isEmpty { break }
            if let termination = buffer.termination {
                if let error = termination { throw error }
                return []
            }
            try Task.checkCancellation()
            await buffer.waitForDeliveries()
        }
        let deadline = ContinuousClock.now.advanced(by: maximumWait)
        while batch.count < maximum, ContinuousClock.now < deadline, buffer.termination == nil, !Task.isCancelled {
            await buffer.waitForDeliveries(until: deadline)
            batch += buffer.take(upTo: maximum - batch.count)
        }
        return batch
    }

    /// Stops handing out deliveries, including those already buffered; iteration then ends.
    /// The consumer itself is cancelled when the sequence is released, and the broker requeues what was not settled.
    public func stop() {
        buffer.finish(discardingBuffered: true)
    }

    /// Iterates deliveries one at a time. Not Sendable: it belongs to the task that iterates.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: DeliveryBuffer
        let cancellation: Cancellation

        public mutating func next() async throws -> AMQPDelivery? {
            while true {
                if let delivery = buffer.take(upTo: 1).first { return delivery }
                if let termination = buffer.termination {
                    if let error = termination { throw error }
                    return nil
                }
                if Task.isCancelled { return nil }
                await buffer.waitForDeliveries()
            }
        }
    }
}

@available(*, unavailable)
extension AMQPDeliveries.AsyncIterator: Sendable {}
