import Foundation
import IMAP

/// A configured mailbox as the poller reads it. Its secret is read (sealed) only when a session logs in.
struct Mailbox: Sendable, Hashable {
    /// `oauth2`: a sealed `OAuth2RefreshGrant`, which yields an access token for each login; `xoauth2`: one access token.
    enum SecretKind: String, Sendable { case password, xoauth2, oauth2 }

    let organisationID: String
    let id: UUID
    let address: String
    let host: String
    let port: Int
    let tls: IMAPTLSMode
    let username: String
    /// A first sync imports only messages received on or after this day.
    let since: DateComponents?
    /// Folder overrides; nil: INBOX, and the folder flagged \Sent.
    let inboundFolder: String?
    let outboundFolder: String?
    /// Other addresses the mailbox sends from: mail from them is outbound too.
    var aliases: [String] = []

    /// The lease that lets one replica at a time poll it.
    var leaseName: String { "mailbox:\(id.uuidString.lowercased())" }
    /// A metric label that identifies the mailbox without the address.
    var label: String { id.uuidString.lowercased() }
}

/// Progress of one folder: messages up to `lastUID` of `uidValidity` have been published and confirmed.
struct FolderProgress: Sendable, Hashable {
    var uidValidity: UInt32?
    var lastUID: UInt32
    var highestModSeq: UInt64?
}
