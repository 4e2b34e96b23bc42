import Foundation
import Testing

@testable import CommlogDomain

/// The call-bridge webhook accepts one normalised call event or an array of them.
@Suite struct WebhookBodyTests {
    /// The `phone.call.event` example of CONTRACTS.md, verbatim.
    static let contractExample = #"""
        {"source": "generic", "call_id": "abc-123", "seq": 2, "kind": "answered",
         "direction": "inbound", "from": "+61412345678", "to": "+61390001000",
         "extension": "201", "outcome": null, "duration_s": null, "recording_url": null,
         "occurred_at": "2026-11-25T09:31:05Z"}
        """#

    @Test func singleEvent() throws {
        let events = try PhoneCallEvent.decodeWebhookBody(Data(Self.contractExample.utf8))
        #expect(events.count == 1)
        #expect(events.first?.callID == "abc-123")
        #expect(events.first?.kind == .answered)
        #expect(events.first?.phoneExtension == "201")
    }

    @Test func arrayOfEvents() throws {
        let ended = #"""
            {"source": "generic", "call_id": "abc-123", "seq": 3, "kind": "ended", "outcome": "answered",
             "duration_s": 95, "occurred_at": "2026-11-25T09:32:40.5+00:00"}
            """#
        let events = try PhoneCallEvent.decodeWebhookBody(Array("  [\(Self.contractExample), \(ended)]".utf8))
        #expect(events.map(\.seq) == [2, 3])
        #expect(events.last?.outcome == .answered)
        #expect(events.last?.durationSeconds == 95)
        #expect(events.last?.occurredAt == Date(timeIntervalSince1970: 1_795_599_160.5))
    }

    @Test func emptyArrayIsNoEvents() throws {
        #expect(try PhoneCallEvent.decodeWebhookBody(Data("[]".utf8)).isEmpty)
    }

    @Test(arguments: [
        (#"{"call_id": "c", "seq": 1, "kind": "ringing", "occurred_at": "2026-11-25T09:31:05Z"}"#, "source: is required"),
        (
            #"[\#(minimalCallData), {"source": "s", "call_id": "c", "seq": "2", "kind": "ringing", "occurred_at": "2026-11-25T09:31:05Z"}]"#,
            "[1].seq: expected an integer (got a string)"
        ),
        (
            #"[\#(minimalCallData), {"source": "s", "call_id": "c", "seq": 2, "kind": "held", "occurred_at": "2026-11-25T09:31:05Z"}]"#,
            #"[1].kind: must be one of ringing, answered, ended, recording (got "held")"#
        ),
        (
            #"[\#(minimalCallData), {"source": "s", "call_id": "", "seq": 2, "kind": "ringing", "occurred_at": "2026-11-25T09:31:05Z"}]"#,
            "[1].call_id: must not be empty"
        ),
        ("[1, 2", "body: not valid JSON (unexpected end of file during JSON parse)"),
        (#""ringing""#, "body: must be a JSON object (got a string)"),
    ])
    func refused(body: String, expected: String) throws {
        let error = try #require(throws: EventDecodingError.self) { try PhoneCallEvent.decodeWebhookBody(Data(body.utf8)) }
        #expect(error.description == expected)
    }
}
