import Foundation
import Testing

@testable import CommlogDomain

/// 2026-11-25T09:30:00Z, the instant of the contract's examples.
let exampleInstant = Date(timeIntervalSince1970: 1_795_599_000)

/// Wraps `data` (JSON text) in a v1 envelope of `type`.
func envelopeJSON(
    type: String,
    data: String,
    id: String = "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10",
    occurredAt: String = "2026-11-25T09:30:00Z",
    organisationID: String = "org-1"
) -> String {
    """
    {"id": "\(id)", "type": "\(type)", "version": 1, "occurred_at": "\(occurredAt)",
     "organisation_id": "\(organisationID)", "data": \(data)}
    """
}

/// Decodes a body given as text, the way a consumer hands over the bytes of a delivery.
func decode(_ json: String, routingKey: String? = nil) throws(EventDecodingError) -> InboundEvent {
    try InboundEvent.decode(Array(json.utf8), routingKey: routingKey)
}

/// Decodes a body that must be refused and returns the error, recording an issue when none is thrown.
func decodingError(
    _ json: String,
    routingKey: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) -> EventDecodingError? {
    #expect(throws: EventDecodingError.self, sourceLocation: sourceLocation) {
        try decode(json, routingKey: routingKey)
    }
}

/// A body that must be refused, with the error it must produce.
struct RefusedBody: Sendable, CustomTestStringConvertible {
    let name: String
    let json: String
    let routingKey: String?
    let code: EventDecodingError.Code
    let description: String

    init(
        _ name: String,
        _ json: String,
        routingKey: String? = nil,
        code: EventDecodingError.Code,
        _ description: String
    ) {
        self.name = name
        self.json = json
        self.routingKey = routingKey
        self.code = code
        self.description = description
    }

    var testDescription: String { name }
}

/// A valid reminder's data, for tests that change one field of it.
let minimalReminderData = #"{"client_id": "c-1", "channel": "email", "kind": "patient"}"#

/// A valid email's data.
let minimalEmailData = #"{"from": "clinic@example.org", "to": ["ann@example.org"]}"#

/// A valid phone event's data.
let minimalCallData = #"""
    {"source": "generic", "call_id": "abc-123", "seq": 1, "kind": "ringing", "occurred_at": "2026-11-25T09:31:05Z"}
    """#
