import CommlogDomain
@testable import EmailIngestor
import Foundation
import LogStore
@testable import Messaging
import Storage
import Testing
import TestSupport

/// email-ingestor consumes two batches at a time; copies of one message, and messages sharing a Message-ID,
/// must never be written by both at once. The consumer keeps batches that share an ordering key apart
/// (PreparedBatchTests); these are the keys the mail handler gives.
@Suite("email: ordering keys")
struct MailOrderingTests {
    final class Unsettled: DeliverySettler {
        func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, generation: UInt64) {}
    }

    static let mailbox = UUID()

    static func delivery(_ raw: [UInt8], organisation: String = "org-1", folder: String = "INBOX", uid: UInt32 = 1) -> AMQPDelivery {
        let message = FetchedMessage(
            organisationID: organisation, mailboxID: mailbox, mailboxAddress: "shared@example.org", folder: folder,
            direction: folder == "Sent" ? .outbound : .inbound, uidValidity: 7, uid: uid, internalDate: nil, raw: raw
        ).outgoing
        return AMQPDelivery(
            queue: "email-ingestor.mail", exchange: message.exchange, routingKey: message.routingKey, body: message.body,
            properties: MessageProperties(contentType: message.contentType, messageID: message.messageID, headers: message.headers, userID: "commlog"),
            redelivered: false, deliveryTag: UInt64(uid), channel: 1, generation: 1, settler: Unsettled()
        )
    }

    func keys(_ delivery: AMQPDelivery) async throws -> Set<String> {
        try await TestEnvironment.withDatabase { database in
            let handler = MailMessageHandler(database: database, announcer: nil, logger: TestEnvironment.logger, fetcherUser: "commlog")
            return Set(handler.orderingKeys(delivery, prepared: handler.prepare(delivery)))
        }
    }

    @Test("copies of a message, and another message under its Message-ID, share a key; other messages and organisations do not")
    func keysOfMessages() async throws {
        let original = TestMessages.simple(messageID: "<Results.1@Clinic.Example>", subject: "Your results", body: "All fine.")
        let reused = TestMessages.simple(messageID: "<Results.1@Clinic.Example>", subject: "Your results", body: "Please call us urgently.")
        let other = TestMessages.simple(messageID: "<other@clinic.example>")
        let withoutID = TestMessages.simple(messageID: nil, subject: "No id")

        let inbox = try await keys(Self.delivery(original))
        #expect(!inbox.isEmpty)
        #expect(inbox.allSatisfy { $0.hasPrefix("org-1 ") })
        #expect(try await keys(Self.delivery(original, folder: "Sent", uid: 9)) == inbox, "the copy in Sent")
        #expect(try await !keys(Self.delivery(reused, uid: 2)).isDisjoint(with: inbox), "another message under the same Message-ID")
        #expect(try await keys(Self.delivery(other, uid: 3)).isDisjoint(with: inbox))
        #expect(try await keys(Self.delivery(original, organisation: "org-2")).isDisjoint(with: inbox), "the same message in another organisation")
        let bare = try await keys(Self.delivery(withoutID, uid: 4))
        #expect(bare.count == 1 && bare.first?.contains("sha256:") == true, "without a Message-ID: its hash")
        #expect(try await keys(Self.delivery(withoutID, folder: "Sent", uid: 5)) == bare)
    }

    @Test("a delivery that cannot be prepared (not from the fetcher, no headers) has no keys; handle rejects it with the reason prepare gave")
    func unpreparedHasNoKeys() async throws {
        let fetched = Self.delivery(TestMessages.simple())
        let foreign = AMQPDelivery(
            queue: fetched.queue, exchange: fetched.exchange, routingKey: fetched.routingKey, body: fetched.body,
            properties: MessageProperties(headers: fetched.properties.headers, userID: "someone-else"), redelivered: false,
            deliveryTag: 1, channel: 1, generation: 1, settler: Unsettled()
        )
        let headerless = AMQPDelivery(
            queue: "email-ingestor.mail", exchange: "commlog.events", routingKey: "mail.message.fetched", body: TestMessages.simple(),
            properties: MessageProperties(userID: "commlog"), redelivered: false, deliveryTag: 2, channel: 1, generation: 1, settler: Unsettled()
        )
        try await TestEnvironment.withDatabase { database in
            let handler = MailMessageHandler(database: database, announcer: nil, logger: TestEnvironment.logger, fetcherUser: "commlog")
            for delivery in [foreign, headerless] {
                #expect(handler.orderingKeys(delivery, prepared: handler.prepare(delivery)).isEmpty)
            }
            let rejections = try await handler.handle([foreign, headerless])
            #expect(rejections.map(\.index) == [0, 1])
            #expect(rejections[0].reason.contains("taken only from email-ingestor's broker user"), "\(rejections[0].reason)")
            #expect(rejections[1].reason.contains("x-organisation-id"), "\(rejections[1].reason)")
        }
    }
}
