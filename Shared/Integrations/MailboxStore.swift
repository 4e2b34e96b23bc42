import Foundation
import IMAP
import Logging
import PostgresNIO
import Storage

/// The `mailboxes` and `mailbox_folders` tables, for email-ingestor (the poller's reads and writes: mailboxes,
/// per-folder progress, status, and the leases that share mailboxes between replicas) and `commlog mailbox`.
public struct MailboxStore: Sendable {
    public let database: Database
    public let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Every enabled mailbox of every organisation.
    public func enabledMailboxes() async throws -> [Mailbox] {
        var organisations: [String] = []
        for try await organisation in try await database.client.query("SELECT commlog_mailbox_organisations()", logger: logger).decode(String.self) {
            organisations.append(organisation)
        }
        var mailboxes: [Mailbox] = []
        for organisation in organisations {
            mailboxes += try await database.withTenant(organisation) { connection in
                var found: [Mailbox] = []
                let rows = try await connection.query("""
                    SELECT id, address, host, port, tls, username, to_char(since, 'YYYY-MM-DD'), inbound_folder, outbound_folder, aliases
                    FROM mailboxes WHERE enabled ORDER BY created_at
                    """, logger: logger)
                for try await (id, address, host, port, tls, username, since, inbound, outbound, aliases) in rows.decode(
                    (UUID, String, String, Int, String, String, String?, String?, String?, [String]).self
                ) {
                    found.append(Mailbox(
                        organisationID: organisation, id: id, address: address, host: host, port: port,
                        tls: IMAPTLSMode(rawValue: tls) ?? .implicit, username: username,
                        since: since.flatMap(Self.day), inboundFolder: inbound, outboundFolder: outbound, aliases: aliases
                    ))
                }
                return found
            }
        }
        return mailboxes
    }

    /// The mailbox's secret as stored now (`commlog mailbox secret` may have replaced it since the session began).
    public func secret(of mailbox: Mailbox) async throws -> (kind: Mailbox.SecretKind, ciphertext: [UInt8], keyID: String) {
        try await database.withTenant(mailbox.organisationID) { connection in
            for try await (kind, ciphertext, keyID) in try await connection.query(
                "SELECT secret_kind, secret_ciphertext, secret_key_id FROM mailboxes WHERE id = \(mailbox.id)", logger: logger
            ).decode((String, ByteBuffer, String).self) {
                return (Mailbox.SecretKind(rawValue: kind) ?? .password, Array(ciphertext.readableBytesView), keyID)
            }
            throw MailboxGone(id: mailbox.id)
        }
    }

    private static func day(_ text: String) -> DateComponents? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return DateComponents(year: parts[0], month: parts[1], day: parts[2])
    }

    /// Whether the mailbox is still there and enabled.
    public func isEnabled(_ mailbox: Mailbox) async throws -> Bool {
        try await database.withTenant(mailbox.organisationID) { connection in
            for try await enabled in try await connection.query(
                "SELECT enabled FROM mailboxes WHERE id = \(mailbox.id)", logger: logger
            ).decode(Bool.self) {
                return enabled
            }
            return false
        }
    }

    /// The stored progress of each folder of the mailbox, by folder name.
    public func progress(of mailbox: Mailbox) async throws -> [String: FolderProgress] {
        try await database.withTenant(mailbox.organisationID) { connection in
            var result: [String: FolderProgress] = [:]
            for try await (name, validity, last, modseq) in try await connection.query(
                "SELECT name, uidvalidity, last_uid, highest_modseq FROM mailbox_folders WHERE mailbox_id = \(mailbox.id)", logger: logger
            ).decode((String, Int64?, Int64, Int64?).self) {
                result[name] = FolderProgress(
                    uidValidity: validity.map { UInt32(truncatingIfNeeded: $0) }, lastUID: UInt32(truncatingIfNeeded: last),
                    highestModSeq: modseq.map { UInt64(bitPattern: $0) }
                )
            }
            return result
        }
    }

    /// Records a folder's progress once its messages are confirmed by the broker.
    public func save(_ progress: FolderProgress, folder: String, direction: String, exists: UInt32, of mailbox: Mailbox) async throws {
        let validity = progress.uidValidity.map(Int64.init)
        let last = Int64(progress.lastUID)
        let modseq = progress.highestModSeq.map { Int64(bitPattern: $0) }
        let count = Int64(exists)
        try await database.withTenant(mailbox.organisationID) { connection in
            try await connection.query("""
                INSERT INTO mailbox_folders (organisation_id, mailbox_id, name, direction, uidvalidity, last_uid, highest_modseq, exists_count, checked_at, updated_at)
                VALUES (commlog_current_organisation(), \(mailbox.id), \(folder), \(direction), \(validity), \(last), \(modseq), \(count), now(), now())
                ON CONFLICT (organisation_id, mailbox_id, name) DO UPDATE SET
                    direction = EXCLUDED.direction, uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid,
                    highest_modseq = EXCLUDED.highest_modseq, exists_count = EXCLUDED.exists_count, checked_at = now(), updated_at = now()
                """, logger: logger)
        }
    }

    /// A complete cycle: every folder checked.
    public func recordSuccess(_ mailbox: Mailbox) async throws {
        try await database.withTenant(mailbox.organisationID) { connection in
            try await connection.query("UPDATE mailboxes SET last_success_at = now(), last_error = NULL WHERE id = \(mailbox.id)", logger: logger)
        }
    }

    /// A failed cycle; `message` must never carry the secret (IMAP errors carry the server's words only).
    public func recordError(_ message: String, _ mailbox: Mailbox) async throws {
        try await database.withTenant(mailbox.organisationID) { connection in
            try await connection.query("UPDATE mailboxes SET last_error = \(message), last_error_at = now() WHERE id = \(mailbox.id)", logger: logger)
        }
    }

    /// Stores a newly sealed secret (a refresh token the OAuth2 provider rotated).
    public func replaceSecret(of mailbox: Mailbox, ciphertext: [UInt8], keyID: String) async throws {
        let encoded = Data(ciphertext).base64EncodedString()
        try await database.withTenant(mailbox.organisationID) { connection in
            try await connection.query("""
                UPDATE mailboxes SET secret_ciphertext = decode(\(encoded), 'base64'), secret_key_id = \(keyID) WHERE id = \(mailbox.id)
                """, logger: logger)
        }
    }

    // MARK: Leases

    /// The mailbox's lease, held by `holder` for `ttl` at a time.
    private func lease(_ name: String, holder: String, ttl: Duration) -> Lease {
        Lease(name: name, holder: holder, duration: ttl, database: database)
    }

    /// Takes or renews the lease for `ttl`: true when this replica holds it now.
    public func claim(_ name: String, holder: String, ttl: Duration) async throws -> Bool {
        try await lease(name, holder: holder, ttl: ttl).acquire()
    }

    /// Gives the lease up so that another replica can take the mailbox at once.
    public func release(_ name: String, holder: String) async {
        await lease(name, holder: holder, ttl: .zero).release()
    }

    /// Gives up every mailbox lease `holder` holds (as the replica stops).
    public func releaseAll(holder: String) async {
        await Lease.releaseAll(prefix: "mailbox:", holder: holder, database: database)
    }
}

/// The mailbox was deleted while a session had it.
public struct MailboxGone: Error, CustomStringConvertible {
    public let id: UUID
    public var description: String { "mailbox \(id) no longer exists" }
}
