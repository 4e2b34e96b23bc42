import CommlogDomain
import Foundation
import Messaging

extension EventEnvelope where Payload: Encodable {
    /// The AMQP message for this event: routed by its type on `commlog.events`, `message_id` = event id.
    /// Commlog's own notifications (`communication.*`) are not mandatory: no live view may be listening.
    public func outgoing() throws -> OutgoingMessage {
        OutgoingMessage(
            exchange: Topology.eventsExchange,
            routingKey: type.routingKey,
            body: try encoded(),
            contentType: "application/json",
            messageID: id,
            timestamp: UInt64(max(0, occurredAt.timeIntervalSince1970)),
            mandatory: !type.routingKey.hasPrefix("communication.")
        )
    }
}
