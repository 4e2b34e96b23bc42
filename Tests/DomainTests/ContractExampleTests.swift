import Foundation
import Testing

@testable import CommlogDomain

/// The examples of CONTRACTS.md, embedded verbatim, decode to the values they show.
@Suite struct ContractExampleTests {
    /// A payload that accepts any `data`, to read the envelope example on its own.
    struct AnyData: Codable, Sendable, Equatable {}

    @Test func envelopeExampleHeader() throws {
        let json = #"""
            {
              "id": "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10",
              "type": "practice.reminder.sent",
              "version": 1,
              "occurred_at": "2026-11-25T09:30:00Z",
              "organisation_id": "org-1",
              "data": { }
            }
            """#
        let envelope = try ContractCoding.makeDecoder().decode(EventEnvelope<AnyData>.self, from: Data(json.utf8))
        #expect(envelope.id == "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10")
        #expect(envelope.type == .reminderSent)
        #expect(envelope.version == 1)
        #expect(envelope.occurredAt == exampleInstant)
        #expect(envelope.organisationID == "org-1")

        // Its empty data is no reminder: the header passes and the first payload rule speaks.
        #expect(decodingError(json, routingKey: "practice.reminder.sent")?.description == "data.client_id: is required")
    }

    @Test func reminderSentExample() throws {
        let data = #"""
            {"location_id": "loc-1", "author_staff_id": "s-1", "client_id": "c-1", "patient_id": "p-1",
             "channel": "email", "address": "ann@example.org", "kind": "patient",
             "reminder_type": "Vaccination", "reminder_count": 2, "template": "Vaccination reminder v3",
             "subject": "Bella is due for her vaccination", "content": "Dear Ann, ..."}
            """#
        let event = try decode(envelopeJSON(type: "practice.reminder.sent", data: data), routingKey: "practice.reminder.sent")
        guard case .reminderSent(let envelope) = event else {
            Issue.record("decoded \(event.type), not a reminder")
            return
        }
        #expect(envelope.id == "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10")
        #expect(envelope.organisationID == "org-1")
        #expect(envelope.occurredAt == exampleInstant)
        #expect(
            envelope.data
                == ReminderSent(
                    locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1",
                    channel: .email, address: "ann@example.org", kind: .patient,
                    reminderType: "Vaccination", reminderCount: 2, template: "Vaccination reminder v3",
                    subject: "Bella is due for her vaccination", content: "Dear Ann, ..."
                )
        )
        #expect(envelope.data.isLogged)
        #expect(envelope.data.reason == .patientReminder)
    }

    @Test func emailSentExample() throws {
        let data = #"""
            {"location_id": "loc-1", "author_staff_id": "s-1", "client_id": "c-1", "patient_id": null,
             "from": "clinic@example.org", "to": ["ann@example.org"], "cc": [], "bcc": [],
             "subject": "Lab results", "body_text": "...", "body_html": null,
             "attachments": [{"name": "results.pdf", "content_type": "application/pdf", "size": 48213,
                              "document": {"owner": "patient", "id": "p-1"}}]}
            """#
        let event = try decode(envelopeJSON(type: "practice.email.sent", data: data), routingKey: "practice.email.sent")
        guard case .emailSent(let envelope) = event else {
            Issue.record("decoded \(event.type), not an email")
            return
        }
        let document = DocumentReference(owner: .patient, id: "p-1")
        #expect(
            envelope.data
                == EmailSent(
                    locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: nil,
                    from: "clinic@example.org", to: ["ann@example.org"], cc: [], bcc: [],
                    subject: "Lab results", bodyText: "...", bodyHTML: nil,
                    attachments: [
                        EmailAttachment(name: "results.pdf", contentType: "application/pdf", size: 48213, document: document)
                    ]
                )
        )
        #expect(envelope.data.reason == .forwardedDocument)
        #expect(envelope.data.documents == [document])
    }

    @Test func smsSentExample() throws {
        let data = #"""
            {"location_id": "loc-1", "author_staff_id": "s-1", "client_id": "c-1", "patient_id": null,
             "to": "+61 412 345 678", "text": "Your appointment is tomorrow at 9:00"}
            """#
        let event = try decode(envelopeJSON(type: "practice.sms.sent", data: data), routingKey: "practice.sms.sent")
        #expect(
            event
                == .smsSent(
                    EventEnvelope(
                        type: .smsSent,
                        organisationID: "org-1",
                        data: SMSSent(
                            locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: nil,
                            to: "+61 412 345 678", text: "Your appointment is tomorrow at 9:00"
                        ),
                        id: "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10",
                        occurredAt: exampleInstant
                    )
                )
        )
    }

    @Test func statementSentExample() throws {
        let event = try decode(envelopeJSON(type: "practice.statement.sent", data: #"{"client_id": "c-1"}"#))
        guard case .statementSent(let envelope) = event else {
            Issue.record("decoded \(event.type), not a statement")
            return
        }
        #expect(envelope.data == StatementSent(clientID: "c-1"))
    }

    @Test func phoneCallEventExample() throws {
        let data = #"""
            {"source": "generic", "call_id": "abc-123", "seq": 2, "kind": "answered",
             "direction": "inbound", "from": "+61412345678", "to": "+61390001000",
             "extension": "201", "outcome": null, "duration_s": null, "recording_url": null,
             "occurred_at": "2026-11-25T09:31:05Z"}
            """#
        let event = try decode(envelopeJSON(type: "phone.call.event", data: data), routingKey: "phone.call.event")
        guard case .phoneCallEvent(let envelope) = event else {
            Issue.record("decoded \(event.type), not a call event")
            return
        }
        #expect(
            envelope.data
                == PhoneCallEvent(
                    source: "generic", callID: "abc-123", seq: 2, kind: .answered, direction: .inbound,
                    from: "+61412345678", to: "+61390001000", phoneExtension: "201",
                    outcome: nil, durationSeconds: nil, recordingURL: nil,
                    occurredAt: Date(timeIntervalSince1970: 1_795_599_065)
                )
        )
    }

    /// The directory table lists field names only; these bodies fill them in as the table describes.
    @Test(arguments: [
        (
            "practice.directory.organisation.upserted",
            #"{"name": "Riverside Vets", "timezone": "Australia/Melbourne", "logging_enabled": true}"#,
            InboundEvent.organisationUpserted(
                .example(.organisationUpserted, OrganisationUpserted(name: "Riverside Vets", timezone: "Australia/Melbourne", loggingEnabled: true))
            )
        ),
        (
            "practice.directory.location.upserted",
            #"{"location_id": "loc-1", "name": "Riverside", "logging_enabled": null}"#,
            .locationUpserted(.example(.locationUpserted, LocationUpserted(locationID: "loc-1", name: "Riverside", loggingEnabled: nil)))
        ),
        (
            "practice.directory.location.upserted",
            #"{"location_id": "loc-2", "name": "Hillside", "logging_enabled": false}"#,
            .locationUpserted(.example(.locationUpserted, LocationUpserted(locationID: "loc-2", name: "Hillside", loggingEnabled: false)))
        ),
        (
            "practice.directory.staff.upserted",
            #"{"staff_id": "s-1", "name": "Dr Kim", "email": "kim@example.org", "roles": ["staff", "manager"], "extension": "201", "phones": ["+61390001001"]}"#,
            .staffUpserted(
                .example(
                    .staffUpserted,
                    StaffUpserted(staffID: "s-1", name: "Dr Kim", email: "kim@example.org", roles: [.staff, .manager], phoneExtension: "201", phones: ["+61390001001"])
                )
            )
        ),
        (
            "practice.directory.client.upserted",
            #"{"client_id": "c-1", "name": "Ann Smith", "emails": ["ann@example.org"], "phones": ["+61412345678"], "related_staff_ids": ["s-1"]}"#,
            .clientUpserted(
                .example(
                    .clientUpserted,
                    ClientUpserted(clientID: "c-1", name: "Ann Smith", emails: ["ann@example.org"], phones: ["+61412345678"], relatedStaffIDs: ["s-1"])
                )
            )
        ),
        (
            "practice.directory.patient.upserted",
            #"{"patient_id": "p-1", "client_id": "c-1", "name": "Bella"}"#,
            .patientUpserted(.example(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Bella")))
        ),
        (
            "practice.directory.connection.upserted",
            #"{"connection_id": "n-1", "client_id": "c-1", "name": "Tom Smith", "relationship": "son", "emails": ["tom@example.org"], "phones": []}"#,
            .connectionUpserted(
                .example(
                    .connectionUpserted,
                    ConnectionUpserted(connectionID: "n-1", clientID: "c-1", name: "Tom Smith", relationship: "son", emails: ["tom@example.org"], phones: [])
                )
            )
        ),
        (
            "practice.directory.patient.deleted",
            #"{"patient_id": "p-1"}"#,
            .directoryDeleted(.example(.patientDeleted, DirectoryDeleted(entity: .patient, id: "p-1")))
        ),
        (
            "communication.logged",
            #"{"communication_id": "0b7e5d7a-6a4e-4f0e-9d0c-2d4f5b1c8a11", "type": "phone", "status": "open", "client_id": "c-1", "staff_ids": ["s-1"]}"#,
            .communicationLogged(
                .example(
                    .communicationLogged,
                    CommunicationChanged(
                        communicationID: UUID(uuidString: "0b7e5d7a-6a4e-4f0e-9d0c-2d4f5b1c8a11")!,
                        type: .phone, status: .open, clientID: "c-1", staffIDs: ["s-1"]
                    )
                )
            )
        ),
    ])
    func tableRows(routingKey: String, data: String, expected: InboundEvent) throws {
        #expect(try decode(envelopeJSON(type: routingKey, data: data), routingKey: routingKey) == expected)
    }

    /// Every `practice.directory.<entity>.deleted` reads `{"<entity>_id"}` for its own entity.
    @Test(arguments: DirectoryEntity.allCases)
    func deletions(entity: DirectoryEntity) throws {
        let type = "practice.directory.\(entity.rawValue).deleted"
        // A deleted patient may well mention its client too: the event type decides which id counts.
        let otherKey = entity == .client ? "patient_id" : "client_id"
        let data = #"{"\#(entity.idKey)": "x-9", "\#(otherKey)": "other"}"#
        let event = try decode(envelopeJSON(type: type, data: data), routingKey: type)
        #expect(event == .directoryDeleted(.example(entity.deletedEventType, DirectoryDeleted(entity: entity, id: "x-9"))))
    }
}

extension EventEnvelope {
    /// An envelope with the id, organisation and instant of the contract's examples.
    static func example(_ type: EventType, _ data: Payload) -> EventEnvelope {
        EventEnvelope(
            type: type, organisationID: "org-1", data: data,
            id: "7d0b1c9e-2f55-4c1c-9a47-8f7f0b0f4a10", occurredAt: exampleInstant
        )
    }
}
