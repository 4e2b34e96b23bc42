import Foundation

/// A mailbox of an address header, its display name decoded (RFC 2047, any charset).
public struct MailAddress: Sendable, Hashable {
    public let name: String?
    public let address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }
}

/// A part kept as an attachment: a file, a forwarded message, an encrypted part kept raw.
public struct MailAttachment: Sendable, Hashable {
    public let name: String
    public let contentType: String
    /// The content with its transfer encoding undone (for a forwarded or encrypted part: the part as written).
    public let content: [UInt8]
    /// An S/MIME (or PGP) encrypted part, kept as it came.
    public let isEncrypted: Bool
    /// A forwarded message (message/rfc822).
    public let isForwardedMessage: Bool
}

/// What the log needs from an RFC 5322 message.
public struct ParsedMessage: Sendable {
    public var subject: String?
    /// Without angle brackets; nil when the message has none.
    public var messageID: String?
    public var date: Date?
    public var from: [MailAddress] = []
    public var to: [MailAddress] = []
    public var cc: [MailAddress] = []
    public var bcc: [MailAddress] = []
    public var inReplyTo: [String] = []
    public var references: [String] = []
    /// The text body: text/plain when there is one, else the HTML converted by the caller.
    public var text: String?
    public var html: String?
    public var attachments: [MailAttachment] = []

    /// Whether some part was encrypted (and kept raw).
    public var hasEncryptedPart: Bool { attachments.contains(where: \.isEncrypted) }
}

/// A message GMime could make nothing of.
public struct MIMEError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
