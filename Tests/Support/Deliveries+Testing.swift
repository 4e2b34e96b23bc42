import CommlogDomain
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

extension AMQPDeliveries {
    /// The `communication.logged` / `communication.updated` events of one organisation among these deliveries.
    ///
    /// Other suites' programs announce on the same keys meanwhile, tens of thousands of them and unreadable test
    /// messages among them: this reads in large takes, settles each with one multiple-ack, decodes only what names
    /// the organisation, and goes on until `enough` holds (or 60 seconds pass), then a little longer for extras.
    public func announcements(
        of organisationID: String, until enough: ([EventEnvelope<CommunicationChanged>]) -> Bool
    ) async throws -> [EventEnvelope<CommunicationChanged>] {
        var found: [EventEnvelope<CommunicationChanged>] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        let marker = Array(organisationID.utf8)
        var settle = 0
        while ContinuousClock.now < deadline && settle < 2 {
            if enough(found) { settle += 1 }
            let batch = try await take(5_000, within: .seconds(1))
            batch.last?.ack(multiple: true)
            for delivery in batch where delivery.body.firstRange(of: marker) != nil {
                switch try? InboundEvent.decode(delivery.body, routingKey: delivery.routingKey) {
                case .communicationLogged(let envelope)? where envelope.organisationID == organisationID: found.append(envelope)
                case .communicationUpdated(let envelope)? where envelope.organisationID == organisationID: found.append(envelope)
                default: break
                }
            }
        }
        return found
    }
}
