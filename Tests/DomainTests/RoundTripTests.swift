import Foundation
import Testing

@testable import CommlogDomain

/// What `encoded()` writes, `InboundEvent.decode` reads back unchanged.
@Suite struct RoundTripTests {
    /// One event of every payload type, fully populated, plus minimal ones where fields are optional.
    static let events: [InboundEvent] = {
        // Sub-millisecond and sub-microsecond parts: the envelope rounds to the microsecond.
        let now = Date(timeIntervalSince1970: 1_795_599_000.123_456_789)
        func envelope<P: EventPayload>(_ type: EventType, _ data: P) -> EventEnvelope<P> {
            EventEnvelope(type: type, organisationID: "org-1", data: data, occurredAt: now)
        }
        return [
            .reminderSent(
                envelope(
                    .reminderSent,
                    ReminderSent(
                        locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1",
                        channel: .print, address: "1 Main St\nRiverside", kind: .appointment,
                        reminderType: "Check-up", reminderCount: 0, template: "Letter v1",
                        subject: "Your appointment", content: String(repeating: "Long letter. ", count: 1000)
                    )
                )
            ),
            .reminderSent(envelope(.reminderSent, ReminderSent(clientID: "c-1", channel: .export, kind: .patient))),
            .emailSent(
                envelope(
                    .emailSent,
                    EmailSent(
                        locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1",
                        from: "clinic@example.org", to: ["ann@example.org", "Tom <tom@example.org>"],
                        cc: ["vet@example.org"], bcc: ["archive@example.org"],
                        subject: "Lab results \u{1F43E}", bodyText: "Hi \"Ann\" / results", bodyHTML: "<p>Hi</p>",
                        attachments: [
                            EmailAttachment(name: "results.pdf", contentType: "application/pdf", size: 48213, document: DocumentReference(owner: .client, id: "c-1")),
                            EmailAttachment(name: "photo.jpg"),
                        ]
                    )
                )
            ),
            .emailSent(envelope(.emailSent, EmailSent(from: "clinic@example.org", to: [], bcc: ["ann@example.org"]))),
            .smsSent(envelope(.smsSent, SMSSent(locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1", to: "+61412345678", text: "See you at 9:00"))),
            .smsSent(envelope(.smsSent, SMSSent(to: "+61412345678", text: ""))),
            .smsReceived(envelope(.smsReceived, SMSReceived(locationID: "loc-1", clientID: "c-1", patientID: "p-1", from: "+61412345678", to: "+61390001000", text: "Yes"))),
            .smsReceived(envelope(.smsReceived, SMSReceived(from: "0412 345 678", text: ""))),
            .statementSent(envelope(.statementSent, StatementSent(clientID: "c-1"))),
            .organisationUpserted(envelope(.organisationUpserted, OrganisationUpserted(name: "Riverside Vets", timezone: "Australia/Melbourne", loggingEnabled: false))),
            .organisationUpserted(envelope(.organisationUpserted, OrganisationUpserted(name: "Riverside Vets"))),
            .locationUpserted(envelope(.locationUpserted, LocationUpserted(locationID: "loc-1", name: "Riverside", loggingEnabled: true))),
            .locationUpserted(envelope(.locationUpserted, LocationUpserted(locationID: "loc-1", name: "Riverside"))),
            .staffUpserted(envelope(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Dr Kim", email: "kim@example.org", roles: [.admin, .manager], phoneExtension: "201", phones: ["+61390001001"]))),
            .staffUpserted(envelope(.staffUpserted, StaffUpserted(staffID: "s-2", name: "Sam"))),
            .clientUpserted(envelope(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann Smith", emails: ["ann@example.org"], phones: ["+61412345678"], relatedStaffIDs: ["s-1", "s-2"]))),
            .patientUpserted(envelope(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Bella"))),
            .connectionUpserted(envelope(.connectionUpserted, ConnectionUpserted(connectionID: "n-1", clientID: "c-1", name: "Tom", relationship: "son", emails: ["tom@example.org"], phones: ["+61400000000"]))),
            .connectionUpserted(envelope(.connectionUpserted, ConnectionUpserted(connectionID: "n-2", clientID: "c-1", name: "Jo"))),
        ]
            + DirectoryEntity.allCases.map { .directoryDeleted(envelope($0.deletedEventType, DirectoryDeleted(entity: $0, id: "\($0.rawValue)-1"))) }
            + [
                .phoneCallEvent(
                    envelope(
                        .phoneCallEvent,
                        PhoneCallEvent(
                            source: "generic", callID: "abc-123", seq: 4, kind: .ended, direction: .outbound,
                            from: "+61390001000", to: "+61412345678", phoneExtension: "201",
                            outcome: .busy, durationSeconds: 0, recordingURL: nil, occurredAt: now.addingTimeInterval(65)
                        )
                    )
                ),
                .phoneCallEvent(
                    envelope(
                        .phoneCallEvent,
                        PhoneCallEvent(
                            source: "twilio", callID: "CA42", seq: 5, kind: .recording,
                            durationSeconds: 125, recordingURL: "https://api.example.com/rec/RE1.wav", occurredAt: now
                        )
                    )
                ),
                .phoneCallEvent(envelope(.phoneCallEvent, PhoneCallEvent(source: "mitel-smdr", callID: "1", seq: 0, kind: .ringing, occurredAt: now))),
                .communicationLogged(envelope(.communicationLogged, CommunicationChanged(communicationID: UUID(), type: .email, status: .closed, clientID: "c-1", staffIDs: ["s-1"]))),
                .communicationUpdated(envelope(.communicationUpdated, CommunicationChanged(communicationID: UUID(), type: .phone, status: .open))),
            ]
    }()

    @Test(arguments: events)
    func decodeOfEncodedIsIdentity(event: InboundEvent) throws {
        let body = try event.encoded()
        #expect(try InboundEvent.decode(body, routingKey: event.type.routingKey) == event)
    }

    @Test(arguments: events)
    func encodedBodiesHaveTheEnvelopeShape(event: InboundEvent) throws {
        let body = try event.encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["type"] as? String == event.type.routingKey)
        #expect(object["version"] as? Int == 1)
        #expect(object["data"] is [String: Any])
    }

    @Test func everyInboundCaseIsCovered() {
        let types = Set(Self.events.map(\.type))
        #expect(types == Set(EventType.allCases.filter(\.hasJSONEnvelope)))
    }

    @Test func encodingWritesTheContractShape() throws {
        let envelope = EventEnvelope(
            type: .smsSent,
            organisationID: "org-1",
            data: SMSSent(clientID: "c-1", to: "+61412345678", text: "Hi"),
            id: "e-1",
            occurredAt: exampleInstant
        )
        let json = String(decoding: try envelope.encoded(), as: UTF8.self)
        #expect(
            json
                == #"{"data":{"author_staff_id":null,"client_id":"c-1","location_id":null,"patient_id":null,"text":"Hi","to":"+61412345678"},"id":"e-1","occurred_at":"2026-11-25T09:30:00.000Z","organisation_id":"org-1","type":"practice.sms.sent","version":1}"#
        )
    }

    @Test func deletionsDecodedOnTheirOwnFindTheirEntity() throws {
        let decoder = ContractCoding.makeDecoder()
        let deletion = try decoder.decode(DirectoryDeleted.self, from: Data(#"{"staff_id": "s-1"}"#.utf8))
        #expect(deletion == DirectoryDeleted(entity: .staff, id: "s-1"))
        let ambiguous = Data(#"{"id": "e-1", "type": "practice.directory.patient.deleted", "version": 1, "occurred_at": "2026-11-25T09:30:00Z", "organisation_id": "org-1", "data": {"patient_id": "p-1", "client_id": "c-1"}}"#.utf8)
        let error = try #require(throws: DecodingError.self) {
            try decoder.decode(EventEnvelope<DirectoryDeleted>.self, from: ambiguous)
        }
        #expect(
            EventDecodingError(error).description
                == "data: must hold exactly one of organisation_id, location_id, staff_id, client_id, patient_id, connection_id (found client_id, patient_id)"
        )
    }

    @Test func communicationIDsAreWrittenInLowerCase() throws {
        let id = try #require(UUID(uuidString: "0B7E5D7A-6A4E-4F0E-9D0C-2D4F5B1C8A11"))
        let envelope = EventEnvelope(
            type: .communicationLogged,
            organisationID: "org-1",
            data: CommunicationChanged(communicationID: id, type: .note, status: .closed)
        )
        let json = String(decoding: try envelope.encoded(), as: UTF8.self)
        #expect(json.contains(#""communication_id":"0b7e5d7a-6a4e-4f0e-9d0c-2d4f5b1c8a11""#))
    }

    @Test func defaultIDIsALowerCaseUUIDAndDefaultInstantIsNow() throws {
        let before = Date()
        let envelope = EventEnvelope(type: .statementSent, organisationID: "org-1", data: StatementSent(clientID: "c-1"))
        #expect(UUID(uuidString: envelope.id) != nil)
        #expect(envelope.id == envelope.id.lowercased())
        #expect(abs(envelope.occurredAt.timeIntervalSince(before)) < 60)
        #expect(envelope.version == EventEnvelope<StatementSent>.supportedVersion)
    }
}
