import CommlogDomain
import CommlogRuntime
@testable import EmailIngestor
import Foundation
import LogStore
@testable import Messaging
import PostgresNIO
@testable import ReminderLogger
import Storage
import Testing
import TestSupport

/// One entry per email across sources: the practice software's `practice.email.sent` (with `message_id`) and the
/// copy a shared mailbox imports, in both orders and with replays of both. The mailbox side runs as deployed
/// (Dovecot, the poller, the broker, the ingestor's consumer); the practice side is reminder-logger's own handler,
/// given the event as the broker would deliver it.
@Suite("email: one entry per message across sources")
struct SameMessageTests {
    /// Takes the acks a handler's deliveries would send: the handler under test is called directly.
    final class Settled: DeliverySettler {
        func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, generation: UInt64) {}
    }

    /// reminder-logger's handler for the harness's organisation, and a way to hand it practice events.
    struct Practice {
        let harness: IngestorHarness
        let handler: PracticeEventHandler

        func deliver<Payload: Encodable & Sendable>(_ type: EventType, _ data: Payload, id: String) async throws {
            let message = try EventEnvelope(type: type, organisationID: harness.organisationID, data: data, id: id, occurredAt: Date()).outgoing()
            let delivery = AMQPDelivery(
                queue: "reminder-logger.practice", exchange: message.exchange, routingKey: message.routingKey, body: message.body,
                properties: MessageProperties(), redelivered: false, deliveryTag: 1, channel: 1, generation: 1, settler: Settled()
            )
            let rejections = try await handler.handle([delivery])
            #expect(rejections.isEmpty, "\(rejections.map(\.reason))")
        }

        static func with(_ harness: IngestorHarness, _ body: @Sendable (Practice) async throws -> Void) async throws {
            try await TestEnvironment.withConnection(name: "test-same-message") { connection in
                let practice = Practice(harness: harness, handler: PracticeEventHandler(
                    database: harness.database, announcer: Announcer(connection: connection, logger: TestEnvironment.logger), logger: TestEnvironment.logger
                ))
                try await practice.deliver(.organisationUpserted, OrganisationUpserted(name: "Riverside"), id: TestEnvironment.unique("org-event"))
                try await practice.deliver(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Dr Lee", email: "lee@clinic.example", roles: [.staff]), id: TestEnvironment.unique("staff"))
                try await practice.deliver(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann Smith", emails: ["ann@example.org"], phones: []), id: TestEnvironment.unique("client"))
                try await practice.deliver(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Bella"), id: TestEnvironment.unique("patient"))
                try await body(practice)
            }
        }
    }

    static func email(messageID: String, subject: String) -> EmailSent {
        EmailSent(
            locationID: nil, authorStaffID: "s-1", clientID: "c-1", patientID: "p-1", from: "shared@example.org", to: ["ann@example.org"],
            subject: subject, bodyText: "Dear Ann, Bella's results are attached.", bodyHTML: "<p>Dear Ann, Bella's results are attached.</p>",
            messageID: messageID
        )
    }

    /// Every entry of the organisation, of any source.
    static func allEntries(_ harness: IngestorHarness) async throws -> [StoredEntry] {
        try await harness.database.withTenant(harness.organisationID) { connection in
            try await EntryReader(connection: connection, logger: harness.database.logger).entries()
        }
    }

    static func history(_ harness: IngestorHarness, of id: UUID) async throws -> [String] {
        try await harness.database.withTenant(harness.organisationID) { connection in
            try await connection.query("SELECT action FROM audit_history WHERE communication_id = \(id) ORDER BY id", logger: harness.database.logger)
                .decode(String.self).all()
        }
    }

    @Test("the practice event first: the mailbox's copy adds the raw message and the CC it lacked; replays of both change nothing")
    func practiceFirst() async throws {
        try await IngestorHarness.run { harness in
            try await Practice.with(harness) { practice in
                let messageID = "\(UUID().uuidString.lowercased())@clinic.example"
                let eventID = TestEnvironment.unique("email")
                try await practice.deliver(.emailSent, Self.email(messageID: "<\(messageID)>", subject: "Lab results"), id: eventID)
                let logged = try #require(try await Self.allEntries(harness).first)
                #expect(logged.source == .practice)

                let (inbox, sent) = try await harness.folders()
                _ = try await harness.addMailbox(inbound: inbox, outbound: sent)
                let copy = TestMessages.simple(messageID: "<\(messageID)>", from: "Clinic <shared@example.org>", to: "Ann Smith <ann@example.org>",
                                               cc: "Tom Smith <tom@example.org>", subject: "Lab results", body: "Dear Ann, Bella's results are attached.")
                try await harness.imap.append(copy, to: sent)
                try await eventually(reading: { try await harness.raw(of: logged.id) }, until: { $0 != nil })
                let entries = try await Self.allEntries(harness)
                #expect(entries.count == 1, "one entry for the message")
                let entry = try #require(entries.first)
                #expect(entry.id == logged.id && entry.source == .practice && entry.authorStaffID == "s-1" && entry.reason == "AD_HOC_EMAIL")
                #expect(entry.participants.contains { $0.role == .cc && $0.address == "tom@example.org" }, "the CC only the mailbox's copy had")
                #expect(entry.participants.filter { $0.role == .to }.count == 1, "a participant both had is not added twice")
                #expect(entry.version == logged.version + 1)
                #expect(try await Self.history(harness, of: entry.id) == ["merge"])
                #expect(try await harness.raw(of: entry.id) == copy)

                // Replays: the practice event again (and under another event id), the copy in another folder.
                try await practice.deliver(.emailSent, Self.email(messageID: messageID, subject: "Lab results"), id: eventID)
                try await practice.deliver(.emailSent, Self.email(messageID: messageID, subject: "Lab results"), id: TestEnvironment.unique("resent"))
                try await harness.imap.append(copy, to: inbox)
                // The poller checks the folder every 2 s here: time for the copy to be fetched and logged.
                try await Task.sleep(for: .seconds(3))
                let after = try await Self.allEntries(harness)
                #expect(after.count == 1)
                #expect(after.first?.version == entry.version, "nothing changed")
            }
        }
    }

    @Test("the mailbox's copy first: the practice event brings its reason, author, client, patient and template; the raw message stays; replays change nothing")
    func mailboxFirst() async throws {
        try await IngestorHarness.run { harness in
            try await Practice.with(harness) { practice in
                let messageID = "\(UUID().uuidString.lowercased())@clinic.example"
                let (inbox, sent) = try await harness.folders()
                _ = try await harness.addMailbox(inbound: inbox, outbound: sent)
                let copy = TestMessages.simple(messageID: "<\(messageID)>", from: "Clinic <shared@example.org>", to: "ann@example.org",
                                               subject: "Lab results", body: "Dear Ann, Bella's results are attached.")
                try await harness.imap.append(copy, to: sent)
                let imported = try #require(try await harness.entries { $0.count == 1 }.first)
                #expect(imported.source == .mailbox && imported.authorStaffID == nil && imported.reason == nil)

                let eventID = TestEnvironment.unique("email")
                try await practice.deliver(.emailSent, Self.email(messageID: messageID, subject: "Lab results"), id: eventID)
                let entries = try await Self.allEntries(harness)
                #expect(entries.count == 1, "one entry for the message")
                let entry = try #require(entries.first)
                #expect(entry.id == imported.id)
                #expect(entry.authorStaffID == "s-1" && entry.reason == "AD_HOC_EMAIL" && entry.clientID == "c-1" && entry.patientID == "p-1")
                #expect(entry.version == imported.version + 1)
                #expect(try await Self.history(harness, of: entry.id).last == "merge")
                #expect(try await harness.raw(of: entry.id) == copy, "the mailbox's raw message is kept")

                try await practice.deliver(.emailSent, Self.email(messageID: messageID, subject: "Lab results"), id: eventID)
                try await harness.imap.append(copy, to: inbox)
                try await Task.sleep(for: .seconds(3))
                let after = try await Self.allEntries(harness)
                #expect(after.count == 1)
                #expect(after.first?.version == entry.version, "nothing changed")
            }
        }
    }

    @Test("a message of someone else's that reuses a practice email's Message-ID is logged apart and never merged")
    func reusedMessageID() async throws {
        try await IngestorHarness.run { harness in
            try await Practice.with(harness) { practice in
                let messageID = "\(UUID().uuidString.lowercased())@clinic.example"
                try await practice.deliver(.emailSent, Self.email(messageID: messageID, subject: "Lab results"), id: TestEnvironment.unique("email"))
                let practiceEntry = try #require(try await Self.allEntries(harness).first)
                let (inbox, sent) = try await harness.folders()
                _ = try await harness.addMailbox(inbound: inbox, outbound: sent)
                try await harness.imap.append(TestMessages.simple(messageID: "<\(messageID)>", from: "Mallory <mallory@elsewhere.example>",
                                                                  subject: "Invoice overdue", body: "Pay here."), to: inbox)
                let entries = try await harness.entries { $0.count == 1 }
                #expect(entries.first?.subject == "Invoice overdue")
                let all = try await Self.allEntries(harness)
                #expect(all.count == 2)
                #expect(all.first { $0.id == practiceEntry.id }?.version == practiceEntry.version, "the practice email is untouched")
                #expect(try await harness.raw(of: practiceEntry.id) == nil)
            }
        }
    }
}
