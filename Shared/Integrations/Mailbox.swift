import Foundation
import IMAP

/// A configured mailbox as the poller reads it. Its secret is read (sealed) only when a session logs in.
public struct Mailbox: Sendable, Hashable {
    /// `oauth2`: a sealed `OAuth2RefreshGrant`, which yields an access token for each login; `xoauth2`: one access token.
    public enum SecretKind: String, Sendable { case password, xoauth2, oauth2 }

    public let organisationID: String
    public let id: UUID
    public let address: String
    public let host: String
    public let port: Int
    public let tls: IMAPTLSMode
    public let username: String
    /// A first sync imports only messages received on or after this day.
    public let since: DateComponents?
    /// Folder overrides; nil: INBOX, and the folder flagged \Sent.
    public let inboundFolder: String?
    public let outboundFolder: String?
    /// Other addresses the mailbox sends from: mail from them is outbound too.
    public var aliases: [String] = []

    /// The lease that lets one replica at a time poll it.
    public var leaseName: String { "mailbox:\(id.uuidString.lowercased())" }
    /// A metric label that identifies the mailbox without the address.
    public var label: String { id.uuidString.lowercased() }

    public init(
        organisationID: String, id: UUID, address: String, host: String, port: Int, tls: IMAPTLSMode, username: String,
        since: DateComponents?, inboundFolder: String?, outboundFolder: String?, aliases: [String] = []
    ) {
        self.organisationID = organisationID
        self.id = id
        self.address = address
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.since = since
        self.inboundFolder = inboundFolder
        self.outboundFolder = outboundFolder
        self.aliases = aliases
    }
}

/// Progress of one folder: messages up to `lastUID` of `uidValidity` have been published and confirmed.
public struct FolderProgress: Sendable, Hashable {
    public var uidValidity: UInt32?
    public var lastUID: UInt32
    public var highestModSeq: UInt64?

    public init(uidValidity: UInt32?, lastUID: UInt32, highestModSeq: UInt64?) {
        self.uidValidity = uidValidity
        self.lastUID = lastUID
        self.highestModSeq = highestModSeq
    }
}
