import Foundation
import Testing

@testable import CommlogDomain

/// Bodies whose envelope is refused say which field is wrong and why, in words an integrator can act on.
@Suite struct DecodingErrorTests {
    static let reminder = "practice.reminder.sent"

    static let envelopeErrors: [RefusedBody] = [
        RefusedBody("truncated JSON", #"{"id": "e-1", "type": "#, code: .invalidJSON, "body: not valid JSON (unexpected end of file during JSON parse)"),
        RefusedBody("not JSON at all", "From: ann@example.org\r\n\r\nHello", code: .invalidJSON, "body: not valid JSON (invalid value around character 0)"),
        RefusedBody("empty body", "", code: .invalidJSON, "body: is empty (expected a JSON object)"),
        RefusedBody("array body", #"[{"id": "e-1"}]"#, code: .typeMismatch, "body: must be a JSON object (got an array)"),
        RefusedBody("string body", #""practice.reminder.sent""#, code: .typeMismatch, "body: must be a JSON object (got a string)"),
        RefusedBody("number body", "42", code: .typeMismatch, "body: must be a JSON object (got a number)"),
        RefusedBody(
            "unknown type",
            envelopeJSON(type: "practice.foo", data: "{}"),
            code: .unknownEventType,
            #"type: unknown event type "practice.foo""#
        ),
        RefusedBody(
            "type differs from routing key",
            envelopeJSON(type: Self.reminder, data: minimalReminderData),
            routingKey: "practice.sms.sent",
            code: .routingKeyMismatch,
            #"type: must equal the routing key "practice.sms.sent" (got "practice.reminder.sent")"#
        ),
        RefusedBody(
            "raw mail under its routing key",
            "From: ann@example.org\r\n\r\nHello",
            routingKey: "mail.message.fetched",
            code: .unsupportedEventType,
            "type: mail.message.fetched carries a raw RFC 5322 message, not a JSON envelope"
        ),
        RefusedBody(
            "version 2",
            envelopeJSON(type: Self.reminder, data: minimalReminderData).replacingOccurrences(of: #""version": 1"#, with: #""version": 2"#),
            code: .unsupportedVersion,
            "version: unsupported version 2 (this service understands 1)"
        ),
        RefusedBody(
            "version as a string",
            envelopeJSON(type: Self.reminder, data: minimalReminderData).replacingOccurrences(of: #""version": 1"#, with: #""version": "1""#),
            code: .typeMismatch,
            "version: expected an integer (got a string)"
        ),
        RefusedBody(
            "missing type",
            #"{"id": "e-1", "version": 1, "occurred_at": "2026-11-25T09:30:00Z", "organisation_id": "org-1", "data": {}}"#,
            code: .missingField,
            "type: is required"
        ),
        RefusedBody(
            "type as a number",
            #"{"id": "e-1", "type": 7, "version": 1, "occurred_at": "2026-11-25T09:30:00Z", "organisation_id": "org-1", "data": {}}"#,
            code: .typeMismatch,
            "type: expected a string (got a number)"
        ),
        RefusedBody(
            "missing id",
            #"{"type": "practice.statement.sent", "version": 1, "occurred_at": "2026-11-25T09:30:00Z", "organisation_id": "org-1", "data": {"client_id": "c-1"}}"#,
            code: .missingField,
            "id: is required"
        ),
        RefusedBody(
            "empty id",
            envelopeJSON(type: Self.reminder, data: minimalReminderData, id: ""),
            code: .invalidValue,
            "id: must not be empty"
        ),
        RefusedBody(
            "id too long",
            envelopeJSON(type: Self.reminder, data: minimalReminderData, id: String(repeating: "x", count: 201)),
            code: .invalidValue,
            "id: must be at most 200 characters (got 201)"
        ),
        RefusedBody(
            "blank organisation",
            envelopeJSON(type: Self.reminder, data: minimalReminderData, organisationID: "  "),
            code: .invalidValue,
            "organisation_id: must not be empty"
        ),
        RefusedBody(
            "date without time",
            envelopeJSON(type: Self.reminder, data: minimalReminderData, occurredAt: "2026-11-25"),
            code: .invalidValue,
            #"occurred_at: expected an RFC 3339 date-time such as 2026-11-25T09:30:00Z (got "2026-11-25")"#
        ),
        RefusedBody(
            "missing data",
            #"{"id": "e-1", "type": "practice.reminder.sent", "version": 1, "occurred_at": "2026-11-25T09:30:00Z", "organisation_id": "org-1"}"#,
            code: .missingField,
            "data: is required"
        ),
        RefusedBody(
            "missing data of a deletion",
            #"{"id": "e-1", "type": "practice.directory.client.deleted", "version": 1, "occurred_at": "2026-11-25T09:30:00Z", "organisation_id": "org-1"}"#,
            code: .missingField,
            "data: is required"
        ),
        RefusedBody("null data", envelopeJSON(type: Self.reminder, data: "null"), code: .missingField, "data: is required (got null)"),
        RefusedBody("array data", envelopeJSON(type: Self.reminder, data: "[]"), code: .typeMismatch, "data: expected an object (got an array)"),
    ]

    @Test(arguments: envelopeErrors)
    func refused(body: RefusedBody) throws {
        let error = try #require(decodingError(body.json, routingKey: body.routingKey))
        #expect(error.description == body.description)
        #expect(error.code == body.code)
    }

    @Test func fieldAndMessageAreSeparate() throws {
        let json = envelopeJSON(type: "practice.email.sent", data: #"{"from": "clinic@example.org", "to": ["a@b.c"], "cc": ["x"]}"#)
        let error = try #require(decodingError(json))
        #expect(error.field == "data.cc[0]")
        #expect(error.message == #"must be an email address (got "x")"#)
    }

    @Test func bodyLevelErrorsHaveNoField() throws {
        let error = try #require(decodingError("{"))
        #expect(error.field == nil)
        #expect(error.description.hasPrefix("body: not valid JSON"))
    }

    @Test func theHeaderIsJudgedBeforeTheData() throws {
        // Unknown type and broken data: the type is what the sender has to fix first.
        let unknown = try #require(decodingError(envelopeJSON(type: "practice.fax.sent", data: "[]")))
        #expect(unknown.code == .unknownEventType)
        // A future version may shape its data differently, so its data is not judged by v1 rules.
        let future = envelopeJSON(type: Self.reminder, data: "{}").replacingOccurrences(of: #""version": 1"#, with: #""version": 2"#)
        #expect(try #require(decodingError(future)).code == .unsupportedVersion)
    }

    @Test func longValuesAreShortenedInMessages() throws {
        let json = envelopeJSON(type: Self.reminder, data: #"{"client_id": "c-1", "channel": "\#(String(repeating: "z", count: 500))", "kind": "patient"}"#)
        let error = try #require(decodingError(json))
        #expect(error.message.count < 200)
        #expect(error.message.hasSuffix(#"...")"#))
    }

    @Test func codesDescribeThemselvesInSnakeCase() {
        #expect(EventDecodingError.Code.missingField.description == "missing_field")
        #expect(EventDecodingError.Code.routingKeyMismatch.description == "routing_key_mismatch")
        #expect(EventDecodingError.Code.invalidJSON != .invalidValue)
    }
}
