import Foundation
import Testing

@testable import CommlogDomain

/// Bodies whose `data` breaks the contract are refused with the JSON path of the offending value.
@Suite struct PayloadErrorTests {
    static let reminder = "practice.reminder.sent"

    static let payloadErrors: [RefusedBody] = [
        RefusedBody(
            "reminder without client",
            envelopeJSON(type: Self.reminder, data: #"{"channel": "sms", "kind": "patient"}"#),
            code: .missingField,
            "data.client_id: is required"
        ),
        RefusedBody(
            "reminder with null client",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": null, "channel": "sms", "kind": "patient"}"#),
            code: .missingField,
            "data.client_id: is required (got null)"
        ),
        RefusedBody(
            "reminder by fax",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "fax", "kind": "patient"}"#),
            code: .invalidValue,
            #"data.channel: must be one of email, sms, print, phone, export (got "fax")"#
        ),
        RefusedBody(
            "reminder of an unknown kind",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "sms", "kind": "invoice"}"#),
            code: .invalidValue,
            #"data.kind: must be one of patient, appointment (got "invoice")"#
        ),
        RefusedBody(
            "reminder count as a string",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "sms", "kind": "patient", "reminder_count": "2"}"#),
            code: .typeMismatch,
            "data.reminder_count: expected an integer (got a string)"
        ),
        RefusedBody(
            "reminder count with a fraction",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "sms", "kind": "patient", "reminder_count": 2.5}"#),
            code: .typeMismatch,
            "data.reminder_count: expected an integer (got 2.5)"
        ),
        RefusedBody(
            "reminder count beyond any integer",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "sms", "kind": "patient", "reminder_count": 1e30}"#),
            code: .typeMismatch,
            "data.reminder_count: expected an integer (got 1e+30)"
        ),
        RefusedBody(
            "negative reminder count",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "sms", "kind": "patient", "reminder_count": -1}"#),
            code: .invalidValue,
            "data.reminder_count: must be zero or more (got -1)"
        ),
        RefusedBody(
            "client id as a number",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": 17, "channel": "sms", "kind": "patient"}"#),
            code: .typeMismatch,
            "data.client_id: expected a string (got a number)"
        ),
        RefusedBody(
            "emailed reminder to a phone number",
            envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "email", "kind": "patient", "address": "+61412345678"}"#),
            code: .invalidValue,
            #"data.address: must be an email address (got "+61412345678")"#
        ),
        RefusedBody(
            "email to a non-address",
            envelopeJSON(type: "practice.email.sent", data: #"{"from": "clinic@example.org", "to": ["ann@example.org", "bob"]}"#),
            code: .invalidValue,
            #"data.to[1]: must be an email address (got "bob")"#
        ),
        RefusedBody(
            "email recipient as a number",
            envelopeJSON(type: "practice.email.sent", data: #"{"from": "clinic@example.org", "to": ["ann@example.org", 5]}"#),
            code: .typeMismatch,
            "data.to[1]: expected a string (got a number)"
        ),
        RefusedBody(
            "email to a single string",
            envelopeJSON(type: "practice.email.sent", data: #"{"from": "clinic@example.org", "to": "ann@example.org"}"#),
            code: .typeMismatch,
            "data.to: expected an array (got a string)"
        ),
        RefusedBody(
            "email without recipients",
            envelopeJSON(type: "practice.email.sent", data: #"{"from": "clinic@example.org"}"#),
            code: .invalidValue,
            "data.to: must list at least one recipient (in to, cc or bcc)"
        ),
        RefusedBody(
            "attachment owned by a vet",
            envelopeJSON(type: "practice.email.sent", data: #"{"from": "a@b.c", "to": ["d@e.f"], "attachments": [{"name": "x.pdf", "document": {"owner": "vet", "id": "v-1"}}]}"#),
            code: .invalidValue,
            #"data.attachments[0].document.owner: must be one of client, patient (got "vet")"#
        ),
        RefusedBody(
            "attachment document without id",
            envelopeJSON(type: "practice.email.sent", data: #"{"from": "a@b.c", "to": ["d@e.f"], "attachments": [{"name": "a"}, {"name": "x.pdf", "document": {"owner": "client", "id": ""}}]}"#),
            code: .invalidValue,
            "data.attachments[1].document.id: must not be empty"
        ),
        RefusedBody(
            "SMS to nobody",
            envelopeJSON(type: "practice.sms.sent", data: #"{"to": "", "text": "Hi"}"#),
            code: .invalidValue,
            "data.to: must not be empty"
        ),
        RefusedBody(
            "SMS from nobody",
            envelopeJSON(type: "practice.sms.received", data: #"{"from": " ", "text": "Hi"}"#),
            code: .invalidValue,
            "data.from: must not be empty"
        ),
        RefusedBody(
            "staff with an unknown role",
            envelopeJSON(type: "practice.directory.staff.upserted", data: #"{"staff_id": "s-1", "name": "Kim", "roles": ["staff", "vet"]}"#),
            code: .invalidValue,
            #"data.roles[1]: must be one of staff, manager, admin (got "vet")"#
        ),
        RefusedBody(
            "location switch as a string",
            envelopeJSON(type: "practice.directory.location.upserted", data: #"{"location_id": "loc-1", "name": "R", "logging_enabled": "yes"}"#),
            code: .typeMismatch,
            "data.logging_enabled: expected true or false (got a string)"
        ),
        RefusedBody(
            "deletion naming another entity",
            envelopeJSON(type: "practice.directory.client.deleted", data: #"{"patient_id": "p-1"}"#),
            code: .missingField,
            "data.client_id: is required"
        ),
        RefusedBody(
            "call answered with an outcome",
            envelopeJSON(type: "phone.call.event", data: #"{"source": "generic", "call_id": "c", "seq": 1, "kind": "answered", "outcome": "missed", "occurred_at": "2026-11-25T09:31:05Z"}"#),
            code: .invalidValue,
            #"data.outcome: only an ended call has an outcome (got "missed" with kind "answered")"#
        ),
        RefusedBody(
            "call with a negative seq",
            envelopeJSON(type: "phone.call.event", data: #"{"source": "generic", "call_id": "c", "seq": -3, "kind": "ringing", "occurred_at": "2026-11-25T09:31:05Z"}"#),
            code: .invalidValue,
            "data.seq: must be zero or more (got -3)"
        ),
        RefusedBody(
            "recording without its URL",
            envelopeJSON(type: "phone.call.event", data: #"{"source": "generic", "call_id": "c", "seq": 3, "kind": "recording", "occurred_at": "2026-11-25T09:31:05Z"}"#),
            code: .missingField,
            "data.recording_url: is required"
        ),
        RefusedBody(
            "call with a bad date",
            envelopeJSON(type: "phone.call.event", data: #"{"source": "generic", "call_id": "c", "seq": 1, "kind": "ringing", "occurred_at": "25/11/2026 09:31"}"#),
            code: .invalidValue,
            #"data.occurred_at: expected an RFC 3339 date-time such as 2026-11-25T09:30:00Z (got "25/11/2026 09:31")"#
        ),
        RefusedBody(
            "communication id that is no UUID",
            envelopeJSON(type: "communication.updated", data: #"{"communication_id": "42", "type": "note", "status": "closed"}"#),
            code: .invalidValue,
            #"data.communication_id: must be a UUID (got "42")"#
        ),
    ]

    @Test(arguments: payloadErrors)
    func refused(body: RefusedBody) throws {
        let error = try #require(decodingError(body.json, routingKey: body.routingKey))
        #expect(error.description == body.description)
        #expect(error.code == body.code)
    }
}
