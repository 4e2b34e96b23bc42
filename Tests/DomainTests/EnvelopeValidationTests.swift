import Foundation
import Testing

@testable import CommlogDomain

/// Publishers check an envelope with the rules consumers apply, before it goes out.
@Suite struct EnvelopeValidationTests {
    @Test func aWellFormedEnvelopePasses() throws {
        let envelope = EventEnvelope(type: .smsSent, organisationID: "org-1", data: SMSSent(to: "+61412345678", text: "Hi"))
        try envelope.validate()
    }

    @Test func payloadMustFitTheType() throws {
        let envelope = EventEnvelope(type: .smsSent, organisationID: "org-1", data: StatementSent(clientID: "c-1"))
        let error = try #require(throws: EventDecodingError.self) { try envelope.validate() }
        #expect(error.description == "type: practice.sms.sent does not carry StatementSent data")
    }

    @Test func deletionMustFitItsEntity() throws {
        let envelope = EventEnvelope(type: .clientDeleted, organisationID: "org-1", data: DirectoryDeleted(entity: .patient, id: "p-1"))
        #expect(throws: EventDecodingError.self) { try envelope.validate() }
        let fitting = EventEnvelope(type: .patientDeleted, organisationID: "org-1", data: DirectoryDeleted(entity: .patient, id: "p-1"))
        try fitting.validate()
        #expect(fitting.data.eventType == .patientDeleted)
    }

    @Test func communicationChangedTravelsAsLoggedOrUpdated() {
        let data = CommunicationChanged(communicationID: UUID(), type: .sms, status: .closed)
        #expect(EventType.allCases.filter { data.isCarried(by: $0) } == [.communicationLogged, .communicationUpdated])
    }

    @Test(arguments: [
        ("", "organisation_id: must not be empty"),
        (String(repeating: "o", count: 201), "organisation_id: must be at most 200 characters (got 201)"),
    ])
    func organisationIDRules(organisationID: String, expected: String) throws {
        let envelope = EventEnvelope(type: .statementSent, organisationID: organisationID, data: StatementSent(clientID: "c-1"))
        let error = try #require(throws: EventDecodingError.self) { try envelope.validate() }
        #expect(error.description == expected)
    }

    @Test func identifiersMayHoldUpTo200Characters() throws {
        // Characters, not bytes: 200 accented letters are 400 bytes of UTF-8.
        let id = String(repeating: "é", count: 200)
        try EventEnvelope(type: .statementSent, organisationID: id, data: StatementSent(clientID: "c-1"), id: id).validate()
    }

    @Test func mailMessagesHaveNoEnvelope() throws {
        let envelope = EventEnvelope(type: .mailMessageFetched, organisationID: "org-1", data: StatementSent(clientID: "c-1"))
        let error = try #require(throws: EventDecodingError.self) { try envelope.validate() }
        #expect(error.code == .unsupportedEventType)
    }

    @Test func payloadErrorsAreReportedUnderData() throws {
        let envelope = EventEnvelope(
            type: .phoneCallEvent,
            organisationID: "org-1",
            data: PhoneCallEvent(source: "generic", callID: "c", seq: 1, kind: .ended, durationSeconds: -4, occurredAt: Date())
        )
        let error = try #require(throws: EventDecodingError.self) { try envelope.validate() }
        #expect(error.description == "data.duration_s: must be zero or more (got -4)")
    }

    @Test(arguments: [
        (CallKind.ended, CallOutcome?.some(.missed), true),
        (.ended, nil, true),
        (.ringing, nil, true),
        (.answered, .answered, false),
        (.recording, .busy, false),
    ])
    func onlyEndedCallsCarryAnOutcome(kind: CallKind, outcome: CallOutcome?, valid: Bool) {
        let event = PhoneCallEvent(
            source: "generic", callID: "c", seq: 1, kind: kind, outcome: outcome,
            recordingURL: kind == .recording ? "https://example.org/r.wav" : nil, occurredAt: Date()
        )
        let passes = (try? event.validate()) != nil
        #expect(passes == valid)
    }

    @Test func emailMayGoToBlindCopiesOnly() throws {
        try EmailSent(from: "clinic@example.org", to: [], bcc: ["ann@example.org"]).validate()
        let error = try #require(throws: EventDecodingError.self) {
            try EmailSent(from: "clinic", to: ["ann@example.org"]).validate()
        }
        #expect(error.description == #"from: must be an email address (got "clinic")"#)
    }

    @Test("an email's message_id is one msg-id, compared without its angle brackets")
    func emailMessageID() throws {
        try EmailSent(from: "clinic@example.org", to: ["ann@example.org"], messageID: " <a1b2@clinic.example> ").validate()
        #expect(MessageID.normalised(" <a1b2@clinic.example> ") == "a1b2@clinic.example")
        #expect(MessageID.normalised("a1b2@clinic.example") == "a1b2@clinic.example")
        #expect(MessageID.normalised("<>") == nil && MessageID.normalised("  ") == nil && MessageID.normalised(nil) == nil)
        for bad in ["", "<>", "a b@clinic.example", "<a@b> <c@d>", "a\u{0}b@c", String(repeating: "x", count: 999)] {
            let error = try #require(throws: EventDecodingError.self, "\(bad.prefix(20))") {
                try EmailSent(from: "clinic@example.org", to: ["ann@example.org"], messageID: bad).validate()
            }
            #expect(error.field == "message_id")
        }
    }

    @Test func directoryEntriesCheckTheirAddresses() throws {
        let client = ClientUpserted(clientID: "c-1", name: "Ann", emails: ["ann@example.org", "ann.example.org"])
        #expect(try #require(throws: EventDecodingError.self) { try client.validate() }.field == "emails[1]")
        let staff = StaffUpserted(staffID: "s-1", name: "Kim", phones: ["+61390001001", " "])
        #expect(try #require(throws: EventDecodingError.self) { try staff.validate() }.field == "phones[1]")
        let connection = ConnectionUpserted(connectionID: "n-1", clientID: "", name: "Tom")
        #expect(try #require(throws: EventDecodingError.self) { try connection.validate() }.field == "client_id")
        let changed = CommunicationChanged(communicationID: UUID(), type: .sms, status: .closed, staffIDs: ["s-1", ""])
        #expect(try #require(throws: EventDecodingError.self) { try changed.validate() }.field == "staff_ids[1]")
    }
}
