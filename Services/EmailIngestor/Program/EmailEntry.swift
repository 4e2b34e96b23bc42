import CommlogDomain
import Crypto
import Foundation
import LogStore
import MIME

/// Turns a parsed message into the log entry: one communication per message and organisation.
struct EmailEntry: Sendable {
    let fetched: FetchedMessage
    let message: ParsedMessage
    /// Set for a message whose Message-ID an entry with other content already has: its content fingerprint,
    /// which keeps it apart (a sender cannot suppress a later message by reusing an id).
    var collision: String?
    /// The idempotency key without a collision's fingerprint: `message-id:` and the Message-ID, or `sha256:` and
    /// the raw message's hash when it has none (worked out once: the hash reads the whole message).
    private let plainSourceRef: String

    init(fetched: FetchedMessage, message: ParsedMessage) {
        self.fetched = fetched
        self.message = message
        plainSourceRef = message.messageID.map { "message-id:\($0.storable)" } ?? "sha256:\(Self.hex(SHA256.hash(data: fetched.raw)))"
    }

    /// The idempotency key: the Message-ID, or the SHA-256 of the raw message when it has none, so that the
    /// same message in INBOX and Sent, or in two mailboxes, is one entry; with the content's fingerprint for
    /// a different message that reuses a Message-ID.
    var sourceRef: String {
        guard message.messageID != nil, let collision else { return plainSourceRef }
        return plainSourceRef + "#\(collision)"
    }

    /// What identifies the message's content whatever folder it was found in (the raw bytes differ between the
    /// copies in INBOX and Sent): subject, sender, text and attachments.
    var fingerprint: String {
        var hash = SHA256()
        for part in [message.subject ?? "", message.from.map(\.address).joined(separator: ","), ReadableText.normalised(content)] {
            hash.update(data: Data(part.utf8))
            hash.update(data: Data([0]))
        }
        for attachment in message.attachments { hash.update(data: Data(attachment.content)) }
        return String(Self.hex(hash.finalize()).prefix(16))
    }

    /// Every address the entry mentions, normalised for the address book.
    var addresses: Set<String> {
        Set((message.from + message.to + message.cc + message.bcc).compactMap { ContactAddress.email($0.address) })
    }

    /// Inbound or outbound by the sender: mail from the mailbox's own address (or one of its aliases) is outbound
    /// in whichever folder it was found (the copy of a sent message in INBOX too); other mail takes its folder's
    /// direction.
    var direction: Direction {
        let own = Set(([fetched.mailboxAddress] + fetched.mailboxAliases).compactMap(ContactAddress.email))
        if message.from.contains(where: { ContactAddress.email($0.address).map(own.contains) ?? false }) {
            return .outbound
        }
        return fetched.direction
    }

    /// The text of the entry: text/plain, or the HTML as text when that is the only body.
    var content: String? {
        if let text = message.text, !text.isEmpty { return text.storable }
        return message.html.map(HTMLText.plainText)?.storable
    }

    func communication(addresses book: AddressBook) -> NewCommunication {
        var participants: [Participant] = []
        for (role, list) in [(ParticipantRole.from, message.from), (.to, message.to), (.cc, message.cc), (.bcc, message.bcc)] {
            for address in list {
                participants.append(book.participant(role, address: address.address.storable, kind: .email, name: address.name?.storable))
            }
        }
        // The client: the sender's for inbound mail, the first client addressed for outbound mail; a client's
        // connection (a carer) stands for its client when no client is among them.
        let order: [ParticipantRole] = direction == .inbound ? [.from, .to, .cc, .bcc] : [.to, .cc, .bcc, .from]
        let client = order.lazy.compactMap { role in participants.first { $0.role == role && $0.kind == .client }?.id }.first
            ?? order.lazy.compactMap { role in participants.filter { $0.role == role }.lazy.compactMap(book.client(of:)).first }.first
        let counterpart = direction == .inbound ? message.from.first : (message.to + message.cc + message.bcc).first
        var notes: [String] = []
        let names = message.attachments.map(\.name.storable)
        if !names.isEmpty { notes.append("Attachments: \(names.joined(separator: ", "))") }
        if message.hasEncryptedPart { notes.append("Encrypted (S/MIME) part kept raw, not readable here.") }
        if let omitted = fetched.omittedBytes {
            notes.append("The message is \(omitted) bytes, more than the mailbox import takes: logged from its headers; its text and attachments are in the mailbox, not here.")
        }
        if collision != nil {
            notes.append("Flagged: another message with the same Message-ID and different content was logged before.")
        }
        return NewCommunication(
            organisationID: fetched.organisationID,
            type: .email,
            direction: direction,
            occurredAt: message.date ?? fetched.internalDate ?? Date(),
            clientID: client,
            address: counterpart.flatMap { ContactAddress.email($0.address) } ?? counterpart?.address.storable,
            subject: message.subject?.storable,
            notes: notes.isEmpty ? nil : notes.joined(separator: "\n"),
            content: content,
            source: .mailbox,
            sourceRef: sourceRef,
            participants: participants,
            attachments: message.attachments.map { attachment in
                NewAttachment(
                    name: attachment.name.storable, contentType: attachment.contentType.storable, size: attachment.content.count,
                    sha256: Self.hex(SHA256.hash(data: attachment.content)), content: attachment.content
                )
            },
            // A message kept apart for reusing a Message-ID is never the message with that id.
            messageID: collision == nil ? MessageID.normalised(message.messageID?.storable) : nil
        )
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// Text compared whitespace-insensitively (line ends and wrapping differ between copies of one message).
enum ReadableText {
    static func normalised(_ text: String?) -> String {
        (text ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
