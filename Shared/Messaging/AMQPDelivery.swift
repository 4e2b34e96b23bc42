/// One message handed to a consumer, carrying its own `ack`, `nack` and `reject`.
///
/// Settling is asynchronous and idempotent with respect to reconnects: settling a delivery of a
/// connection that has since been replaced does nothing, because the broker has already requeued it.
public struct AMQPDelivery: Sendable {
    public let queue: String
    public let exchange: String
    public let routingKey: String
    public let body: [UInt8]
    public let properties: MessageProperties
    /// The broker's redelivered flag: some consumer saw this message before.
    public let redelivered: Bool
    let deliveryTag: UInt64
    let channel: UInt16
    let generation: UInt64
    let settler: any DeliverySettler

    /// How often the broker delivered this message before (quorum queues count returns in `x-delivery-count`).
    public var previousDeliveries: Int {
        Int(properties.headers["x-delivery-count"]?.intValue ?? (redelivered ? 1 : 0))
    }

    /// Acknowledges this delivery, or with `multiple` every unsettled delivery of its channel up to it.
    public func ack(multiple: Bool = false) {
        settler.settle(.ack(multiple: multiple), tag: deliveryTag, channel: channel, generation: generation)
    }

    /// Negatively acknowledges: `requeue` puts it back on the queue, otherwise it is dead-lettered by the broker.
    public func nack(requeue: Bool, multiple: Bool = false) {
        settler.settle(.nack(requeue: requeue, multiple: multiple), tag: deliveryTag, channel: channel, generation: generation)
    }

    /// Rejects this single delivery; without `requeue` the broker dead-letters it.
    public func reject(requeue: Bool = false) {
        settler.settle(.reject(requeue: requeue), tag: deliveryTag, channel: channel, generation: generation)
    }

    /// Whether `other` was delivered on the same channel of the same connection, so one multiple-ack covers both.
    public func sharesChannel(with other: AMQPDelivery) -> Bool {
        channel == other.channel && generation == other.generation
    }
}

/// How a delivery is settled.
enum Settlement: Sendable {
    case ack(multiple: Bool)
    case nack(requeue: Bool, multiple: Bool)
    case reject(requeue: Bool)
}

/// What settles deliveries: the connection that received them.
protocol DeliverySettler: Sendable {
    func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, generation: UInt64)
}
