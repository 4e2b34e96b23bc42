import Foundation
import Testing

@testable import CommlogDomain

/// What the contract leaves open is accepted: nulls for optional fields, missing arrays, unknown fields.
@Suite struct LenientDecodingTests {
    @Test func optionalFieldsMayBeNullOrAbsent() throws {
        let withNulls = #"""
            {"location_id": null, "author_staff_id": null, "client_id": "c-1", "patient_id": null,
             "channel": "sms", "address": null, "kind": "appointment", "reminder_type": null,
             "reminder_count": null, "template": null, "subject": null, "content": null}
            """#
        let absent = #"{"client_id": "c-1", "channel": "sms", "kind": "appointment"}"#
        let expected = ReminderSent(clientID: "c-1", channel: .sms, kind: .appointment)
        for data in [withNulls, absent] {
            guard case .reminderSent(let envelope) = try decode(envelopeJSON(type: "practice.reminder.sent", data: data)) else {
                Issue.record("not a reminder")
                continue
            }
            #expect(envelope.data == expected)
        }
    }

    @Test func missingOrNullArraysAreEmpty() throws {
        let event = try decode(envelopeJSON(type: "practice.email.sent", data: #"{"from": "a@example.org", "to": ["b@example.org"], "cc": null}"#))
        guard case .emailSent(let email) = event else {
            Issue.record("not an email")
            return
        }
        #expect(email.data.cc == [])
        #expect(email.data.bcc == [])
        #expect(email.data.attachments == [])
        #expect(email.data.reason == .adHocEmail)

        let client = try decode(envelopeJSON(type: "practice.directory.client.upserted", data: #"{"client_id": "c-1", "name": "Ann"}"#))
        #expect(client == .clientUpserted(.example(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", emails: [], phones: [], relatedStaffIDs: []))))

        let staff = try decode(envelopeJSON(type: "practice.directory.staff.upserted", data: #"{"staff_id": "s-1", "name": "Kim"}"#))
        #expect(staff == .staffUpserted(.example(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Kim", roles: [], phones: []))))

        let changed = try decode(
            envelopeJSON(type: "communication.logged", data: #"{"communication_id": "0b7e5d7a-6a4e-4f0e-9d0c-2d4f5b1c8a11", "type": "sms", "status": "closed"}"#)
        )
        guard case .communicationLogged(let logged) = changed else {
            Issue.record("not communication.logged")
            return
        }
        #expect(logged.data.staffIDs == [])
        #expect(logged.data.clientID == nil)
    }

    @Test func organisationLoggingIsOnUnlessSwitchedOff() throws {
        for (data, expected) in [
            (#"{"name": "R"}"#, true), (#"{"name": "R", "logging_enabled": null}"#, true),
            (#"{"name": "R", "logging_enabled": false}"#, false),
        ] {
            guard case .organisationUpserted(let envelope) = try decode(envelopeJSON(type: "practice.directory.organisation.upserted", data: data)) else {
                Issue.record("not an organisation")
                continue
            }
            #expect(envelope.data.loggingEnabled == expected)
        }
    }

    @Test(arguments: [(Bool?.none, true, true), (nil, false, false), (true, false, true), (false, true, false)])
    func locationFollowsTheOrganisationWhenNull(location: Bool?, organisation: Bool, expected: Bool) {
        let entry = LocationUpserted(locationID: "loc-1", name: "R", loggingEnabled: location)
        #expect(entry.isLoggingEnabled(organisationDefault: organisation) == expected)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let json = #"""
            {"id": "e-1", "type": "practice.sms.sent", "version": 1, "occurred_at": "2026-11-25T09:30:00Z",
             "organisation_id": "org-1", "trace": {"span": [1, 2, 3]}, "priority": null,
             "data": {"to": "+61412345678", "text": "Hi", "segments": 2, "carrier": {"name": "x"}}}
            """#
        let event = try decode(json, routingKey: "practice.sms.sent")
        #expect(event == .smsSent(EventEnvelope(type: .smsSent, organisationID: "org-1", data: SMSSent(to: "+61412345678", text: "Hi"), id: "e-1", occurredAt: exampleInstant)))
    }

    @Test func routingKeyIsOptional() throws {
        let event = try decode(envelopeJSON(type: "practice.statement.sent", data: #"{"client_id": "c-1"}"#), routingKey: nil)
        #expect(event.type == .statementSent)
        #expect(event.id == "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10")
        #expect(event.organisationID == "org-1")
        #expect(event.occurredAt == exampleInstant)
    }

    @Test func dataAndBytesEntryPointsAgree() throws {
        let json = envelopeJSON(type: "practice.reminder.sent", data: minimalReminderData)
        let fromData = try InboundEvent.decode(Data(json.utf8), routingKey: "practice.reminder.sent")
        let fromBytes = try InboundEvent.decode(Array(json.utf8)[...], routingKey: "practice.reminder.sent")
        #expect(fromData == fromBytes)
    }

    @Test(arguments: [
        ("2026-11-25T09:30:00Z", 0.0),
        ("2026-11-25T09:30:00.000Z", 0.0),
        ("2026-11-25T09:30:00.5Z", 0.5),
        ("2026-11-25T09:30:00.123456Z", 0.123_456),
        ("2026-11-25T19:30:00+10:00", 0.0),
        ("2026-11-25T04:30:00-05:00", 0.0),
        ("2026-11-25T20:00:00.25+10:30", 0.25),
        ("2026-11-25T09:30:00+00:00", 0.0),
        ("2026-11-25t09:30:00z", 0.0),
    ])
    func envelopeDatesWithOffsetsAndFractions(occurredAt: String, fraction: Double) throws {
        let event = try decode(envelopeJSON(type: "practice.statement.sent", data: #"{"client_id": "c-1"}"#, occurredAt: occurredAt))
        #expect(event.occurredAt == RFC3339.normalized(exampleInstant.addingTimeInterval(fraction)))
    }
}
