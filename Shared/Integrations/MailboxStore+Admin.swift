import Foundation
import Logging
import PostgresNIO
import Storage

/// What `commlog mailbox` does with the table: add, list, change one mailbox, and its sealed secrets.
extension MailboxStore {
    /// A mailbox with its state, as `commlog mailbox list` shows it.
    public struct Listed: Sendable {
        public let organisationID: String
        public let id: UUID
        public let address: String
        public let host: String
        public let port: Int
        public let tls: String
        public let enabled: Bool
        /// RFC 3339, UTC.
        public let lastSuccessAt: String?
        public let lagSeconds: Int64?
        public let lastError: String?
        public let lastErrorAt: String?
        /// `INBOX uid 12, Sent uid 40`.
        public let folders: String?
    }

    /// What happens to one mailbox.
    public enum Change: Sendable { case enable, disable, remove }

    /// A new mailbox with its sealed secret (sealed bound to `id`); returns its id.
    public func add(
        organisationID: String, id: UUID, address: String, host: String, port: Int, tls: String, username: String,
        secretKind: String, sealed: (ciphertext: [UInt8], keyID: String), since: String?, inboundFolder: String?, outboundFolder: String?,
        aliases: [String]
    ) async throws -> UUID? {
        try await database.withTenant(organisationID) { connection in
            for try await id in try await connection.query("""
                INSERT INTO mailboxes (organisation_id, id, address, host, port, tls, username, secret_kind, secret_ciphertext,
                                       secret_key_id, since, inbound_folder, outbound_folder, aliases)
                VALUES (commlog_current_organisation(), \(id), \(address), \(host), \(port), \(tls), \(username), \(secretKind),
                        decode(\(Data(sealed.ciphertext).base64EncodedString()), 'base64'), \(sealed.keyID), \(since)::date,
                        \(inboundFolder), \(outboundFolder), \(aliases))
                RETURNING id
                """, logger: logger).decode(UUID.self) {
                return id
            }
            return nil
        }
    }

    /// The organisations that have mailboxes (through `commlog_mailbox_organisations()`).
    public func organisations() async throws -> [String] {
        var organisations: [String] = []
        for try await id in try await database.client.query("SELECT commlog_mailbox_organisations()", logger: logger).decode(String.self) {
            organisations.append(id)
        }
        return organisations
    }

    public func list(organisationID: String) async throws -> [Listed] {
        try await database.withTenant(organisationID) { connection in
            var listed: [Listed] = []
            for try await (id, address, host, port, tls, enabled, success, lag, error, errorAt, folders) in try await connection.query("""
                SELECT id, address, host, port, tls, enabled,
                       to_char(last_success_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       extract(epoch FROM now() - last_success_at)::bigint,
                       last_error, to_char(last_error_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       (SELECT string_agg(name || ' uid ' || last_uid, ', ' ORDER BY direction) FROM mailbox_folders f WHERE f.mailbox_id = m.id)
                FROM mailboxes m ORDER BY address
                """, logger: logger).decode((UUID, String, String, Int, String, Bool, String?, Int64?, String?, String?, String?).self) {
                listed.append(Listed(organisationID: organisationID, id: id, address: address, host: host, port: port, tls: tls, enabled: enabled,
                                     lastSuccessAt: success, lagSeconds: lag, lastError: error, lastErrorAt: errorAt, folders: folders))
            }
            return listed
        }
    }

    /// The id of the mailbox `mailbox` names (its id or its address), when the organisation has it.
    public func id(of mailbox: String, organisationID: String) async throws -> UUID? {
        try await database.withTenant(organisationID) { connection in
            for try await id in try await connection.query(
                "SELECT id FROM mailboxes WHERE id::text = \(mailbox.lowercased()) OR lower(address) = \(mailbox.lowercased())", logger: logger
            ).decode(UUID.self) { return id }
            return nil
        }
    }

    /// Enables, disables or removes one mailbox (what it imported stays in the log); false when there is none.
    public func apply(_ change: Change, to id: UUID, organisationID: String) async throws -> Bool {
        try await database.withTenant(organisationID) { connection in
            let query: PostgresQuery = switch change {
            case .enable: "UPDATE mailboxes SET enabled = true WHERE id = \(id) RETURNING id"
            case .disable: "UPDATE mailboxes SET enabled = false WHERE id = \(id) RETURNING id"
            case .remove: "DELETE FROM mailboxes WHERE id = \(id) RETURNING id"
            }
            for try await _ in try await connection.query(query, logger: logger).decode(UUID.self) { return true }
            return false
        }
    }

    /// A new secret (sealed bound to the mailbox): the mailbox is enabled again and its last error cleared.
    public func replaceSecret(of id: UUID, organisationID: String, kind: String, sealed: (ciphertext: [UInt8], keyID: String)) async throws -> Bool {
        try await database.withTenant(organisationID) { connection in
            for try await _ in try await connection.query("""
                UPDATE mailboxes SET secret_ciphertext = decode(\(Data(sealed.ciphertext).base64EncodedString()), 'base64'),
                                     secret_key_id = \(sealed.keyID), secret_kind = \(kind), enabled = true, last_error = NULL
                WHERE id = \(id) RETURNING id
                """, logger: logger).decode(UUID.self) { return true }
            return false
        }
    }

    /// Every sealed secret of the organisation, to be opened and sealed again (`reseal`).
    public func sealedSecrets(organisationID: String) async throws -> [(id: UUID, ciphertext: [UInt8], keyID: String)] {
        try await database.withTenant(organisationID) { connection in
            var secrets: [(id: UUID, ciphertext: [UInt8], keyID: String)] = []
            for try await (id, ciphertext, keyID) in try await connection.query(
                "SELECT id, secret_ciphertext, secret_key_id FROM mailboxes", logger: logger
            ).decode((UUID, ByteBuffer, String).self) {
                secrets.append((id, Array(ciphertext.readableBytesView), keyID))
            }
            return secrets
        }
    }

    /// Stores a secret sealed again, its kind unchanged.
    public func reseal(_ id: UUID, organisationID: String, sealed: (ciphertext: [UInt8], keyID: String)) async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query("""
                UPDATE mailboxes SET secret_ciphertext = decode(\(Data(sealed.ciphertext).base64EncodedString()), 'base64'),
                                     secret_key_id = \(sealed.keyID) WHERE id = \(id)
                """, logger: logger)
        }
    }
}
