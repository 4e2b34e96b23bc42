import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import Metrics

/// Publishes normalised call events to `commlog.events` and returns once the broker has confirmed them all.
struct CallEventPublisher: Sendable {
    let connection: AMQPConnection

    /// - Parameter ingress: which door they came in by (`webhook`, `twilio`, `smdr`), for the metrics.
    func publish(_ events: [PhoneCallEvent], organisationID: String, ingress: String) async throws {
        guard !events.isEmpty else { return }
        let messages = try events.map { event in
            let envelope = EventEnvelope(type: .phoneCallEvent, organisationID: organisationID, data: event, occurredAt: event.occurredAt)
            try envelope.validate()
            return try envelope.outgoing()
        }
        try await connection.publish(messages)
        Counter(label: "commlog_call_ingress_events_total", dimensions: [("ingress", ingress)]).increment(by: events.count)
    }
}
