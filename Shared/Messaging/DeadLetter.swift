/// A message that can never be processed, with why: built by consumers that give up on a message, and
/// read back from the dead-letter queue (where the broker's own `x-death` header may be all there is).
public struct DeadLetter: Sendable {
    /// Header carrying the reason a consumer gave up.
    public static let reasonHeader = "x-commlog-reason"
    /// Header naming the queue the message was taken from.
    public static let queueHeader = "x-commlog-queue"

    public var queue: String
    public var routingKey: String
    public var reason: String
    public var body: [UInt8]
    public var properties: MessageProperties

    /// Reads what a dead-lettered delivery says about itself.
    public init(from delivery: AMQPDelivery) {
        let headers = delivery.properties.headers
        let death: AMQPTable? = if case .array(let deaths) = headers["x-death"], case .table(let first)? = deaths.first { first } else { nil }
        self.queue = headers[Self.queueHeader]?.stringValue ?? death?["queue"]?.stringValue ?? "unknown"
        self.routingKey = delivery.routingKey
        self.body = delivery.body
        self.properties = delivery.properties
        if let reason = headers[Self.reasonHeader]?.stringValue {
            self.reason = reason
        } else {
            self.reason = switch death?["reason"]?.stringValue {
            case "delivery_limit": "delivered too often without being processed (delivery limit reached)"
            case "rejected": "rejected by a consumer"
            case "expired": "expired before it was processed"
            case let other?: "dead-lettered by the broker: \(other)"
            case nil: "no reason recorded"
            }
        }
    }

    public init(delivery: AMQPDelivery, reason: String) {
        self.queue = delivery.queue
        self.routingKey = delivery.routingKey
        self.reason = reason
        self.body = delivery.body
        self.properties = delivery.properties
    }

    /// The message to publish to the dead-letter exchange: the original body and headers, plus the reason.
    public var outgoing: OutgoingMessage {
        var headers = properties.headers
        headers[Self.reasonHeader] = .string(reason)
        headers[Self.queueHeader] = .string(queue)
        return OutgoingMessage(
            exchange: Topology.deadLetterExchange,
            routingKey: routingKey,
            body: body,
            contentType: properties.contentType,
            messageID: properties.messageID,
            headers: headers,
            timestamp: properties.timestamp
        )
    }
}
