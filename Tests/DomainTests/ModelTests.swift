import Foundation
import Testing

@testable import CommlogDomain

/// The communication model: its vocabularies and what writers insert.
@Suite struct ModelTests {
    @Test func eventTypesAreTheRoutingKeys() {
        let entities = ["organisation", "location", "staff", "client", "patient", "connection"]
        let expected =
            ["practice.reminder.sent", "practice.email.sent", "practice.sms.sent", "practice.sms.received", "practice.statement.sent"]
            + entities.flatMap { ["practice.directory.\($0).upserted", "practice.directory.\($0).deleted"] }
            + ["phone.call.event", "mail.message.fetched", "communication.logged", "communication.updated"]
        #expect(EventType.allCases.map(\.routingKey) == expected)
    }

    @Test(arguments: DirectoryEntity.allCases)
    func directoryEventTypesKnowTheirEntity(entity: DirectoryEntity) {
        #expect(entity.upsertedEventType.directoryEntity == entity)
        #expect(entity.deletedEventType.directoryEntity == entity)
        #expect(entity.deletedEventType.isDirectoryDeletion)
        #expect(!entity.upsertedEventType.isDirectoryDeletion)
        #expect(entity.deletedEventType.rawValue == "practice.directory.\(entity.rawValue).deleted")
    }

    @Test(arguments: [
        (ReminderChannel.email, CommunicationType?.some(.email)), (.sms, .sms), (.print, .mail), (.phone, nil), (.export, nil),
    ])
    func remindersAreLoggedByChannel(channel: ReminderChannel, type: CommunicationType?) {
        #expect(channel.communicationType == type)
        #expect(channel.isLogged == (type != nil))
    }

    @Test func reasonsOfPracticeEvents() {
        #expect(ReminderKind.patient.reason.rawValue == "PATIENT_REMINDER")
        #expect(ReminderKind.appointment.reason.rawValue == "APPOINTMENT_REMINDER")
        #expect(SMSSent(to: "+61400000000", text: "x").reason.rawValue == "AD_HOC_SMS")
        #expect(EmailSent(from: "a@b.c", to: ["d@e.f"], attachments: [EmailAttachment(name: "x.pdf")]).reason.rawValue == "AD_HOC_EMAIL")
        #expect(ReasonCode.forwardedDocument.rawValue == "FORWARDED_DOCUMENT")
    }

    @Test func organisationsMayAddTheirOwnReasons() throws {
        let own: ReasonCode = "BEREAVEMENT_CARD"
        #expect(!own.isStandard)
        #expect(ReasonCode.standard.allSatisfy { $0.isStandard })
        #expect(ReasonCode.standard.count == 5)
        let json = try ContractCoding.makeEncoder().encode([own, .adHocSMS])
        #expect(String(decoding: json, as: UTF8.self) == #"["BEREAVEMENT_CARD","AD_HOC_SMS"]"#)
        #expect(try ContractCoding.makeDecoder().decode([ReasonCode].self, from: json) == [own, .adHocSMS])
    }

    @Test func enumsListTheirAllowedValues() {
        #expect(ParticipantRole.allowedValues == "from, to, cc, bcc, caller, callee, handler, related")
        #expect(ParticipantKind.allowedValues == "staff, client, connection, external")
        #expect(CommunicationType.allowedValues == "email, sms, phone, mail, note")
        #expect(CommunicationSource.allowedValues == "manual, mailbox, practice, phone, import")
        #expect(CommunicationStatus.allowedValues == "open, closed")
        #expect(Direction.allowedValues == "inbound, outbound")
        #expect(StaffRole.allowedValues == "staff, manager, admin")
    }

    @Test func participantsWriteNullForAnUnmatchedID() throws {
        let participant = Participant.external(.from, address: "someone@example.org")
        let json = String(decoding: try ContractCoding.makeEncoder().encode(participant), as: UTF8.self)
        #expect(json == #"{"address":"someone@example.org","id":null,"kind":"external","name":null,"role":"from"}"#)
        #expect(try ContractCoding.makeDecoder().decode(Participant.self, from: Data(json.utf8)) == participant)
    }

    @Test func newCommunicationRoundTrips() throws {
        let communication = NewCommunication(
            organisationID: "org-1",
            type: .phone,
            direction: .inbound,
            status: .open,
            occurredAt: RFC3339.normalized(Date()),
            answeredAt: exampleInstant,
            clientID: "c-1",
            reason: "CALLBACK",
            address: "+61412345678",
            source: .phone,
            sourceRef: "generic:abc-123",
            participants: [
                Participant(role: .caller, kind: .client, id: "c-1", address: "+61412345678", name: "Ann"),
                Participant(role: .handler, kind: .staff, id: "s-1"),
            ],
            attachments: [
                NewAttachment(
                    name: "results.pdf", contentType: "application/pdf", size: 3,
                    sha256: "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", content: [1, 2, 3],
                    documentOwner: .patient, documentID: "p-1"
                )
            ]
        )
        let json = try ContractCoding.makeEncoder().encode(communication)
        #expect(String(decoding: json, as: UTF8.self).contains(#""content":"AQID""#))
        #expect(try ContractCoding.makeDecoder().decode(NewCommunication.self, from: json) == communication)
    }

    @Test func newCommunicationDefaults() {
        let note = NewCommunication(
            organisationID: "org-1", type: .note, direction: nil, occurredAt: exampleInstant,
            source: .manual, sourceRef: "n-1"
        )
        #expect(note.status == .closed)
        #expect(!note.showInPatientHistory)
        #expect(note.participants.isEmpty)
        #expect(note.attachments.isEmpty)
    }

    @Test("storable text: each NUL becomes U+FFFD, everything else is kept as it was", arguments: [
        ("plain text, Grüße 🐕", "plain text, Grüße 🐕"), ("\u{0}", "\u{FFFD}"), ("a\u{0}b", "a\u{FFFD}b"),
        ("\u{0}é\u{0}\u{0}🐕\u{0}", "\u{FFFD}é\u{FFFD}\u{FFFD}🐕\u{FFFD}"), ("e\u{301}\u{0}", "e\u{301}\u{FFFD}"), ("", ""),
    ])
    func storable(text: String, stored: String) {
        #expect(text.storable == stored)
        #expect(Array(text.storable.unicodeScalars) == Array(stored.unicodeScalars))
        #expect(!text.storable.utf8.contains(0))
    }
}
