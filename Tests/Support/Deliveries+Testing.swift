import Messaging
import Synchronization

extension AMQPDeliveries {
    /// Takes deliveries until `count` arrived or `timeout` passed, and returns what arrived.
    public func take(_ count: Int, within timeout: Duration = .seconds(10)) async throws -> [AMQPDelivery] {
        let taken = Collected()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while taken.withLock({ $0.count }) < count {
                    let remaining = count - taken.withLock { $0.count }
                    guard let batch = try? await self.nextBatch(maximum: remaining, maximumWait: .milliseconds(1)), !batch.isEmpty else { return }
                    taken.withLock { $0 += batch }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return taken.withLock { $0 }
    }
}

/// Deliveries collected by one task and read by another.
private final class Collected: Sendable {
    private let deliveries = Mutex<[AMQPDelivery]>([])
    func withLock<T: Sendable>(_ body: (inout sending [AMQPDelivery]) -> sending T) -> T { deliveries.withLock(body) }
}

extension Array where Element == AMQPDelivery {
    /// The bodies as UTF-8 text.
    public var texts: [String] { map { String(decoding: $0.body, as: UTF8.self) } }
}
