import CommlogDomain
@testable import EmailIngestor
import Foundation
import IMAP
import Messaging
import Testing

@Suite("Folders and fetched-message headers")
struct FolderAndHeaderTests {
    @Test("the \\Sent special-use flag wins over names; without it the usual names are tried")
    func sentFolder() {
        let flagged = [IMAPFolder(name: "INBOX", flags: []), IMAPFolder(name: "Sent", flags: []), IMAPFolder(name: "Gesendete Objekte", flags: ["\\HasNoChildren", "\\Sent"])]
        #expect(SentFolder.find(in: flagged) == "Gesendete Objekte")
        #expect(SentFolder.find(in: [IMAPFolder(name: "INBOX", flags: []), IMAPFolder(name: "sent items", flags: [])]) == "sent items")
        #expect(SentFolder.find(in: [IMAPFolder(name: "INBOX", flags: [])]) == nil)
        #expect(!IMAPFolder(name: "[Gmail]", flags: ["\\Noselect"]).isSelectable)
    }

    @Test("mail.message.fetched: what the poller publishes is what the consumer reads; a missing header is permanent")
    func headers() throws {
        let mailbox = UUID()
        let fetched = FetchedMessage(
            organisationID: "org-1", mailboxID: mailbox, mailboxAddress: "clinic@example.org", folder: "Sent", direction: .outbound,
            uidValidity: 42, uid: 7, internalDate: Date(timeIntervalSince1970: 1_795_000_000), raw: Array("Subject: x\r\n\r\nbody".utf8)
        )
        let message = fetched.outgoing
        #expect(message.routingKey == "mail.message.fetched")
        #expect(message.contentType == "message/rfc822")
        #expect(message.messageID == "\(mailbox.uuidString.lowercased())/Sent/42/7")
        #expect(message.headers["x-organisation-id"] == "org-1")
        #expect(message.headers["x-direction"] == "outbound")
        #expect(message.headers["x-uid"] == 7)
    }
}
