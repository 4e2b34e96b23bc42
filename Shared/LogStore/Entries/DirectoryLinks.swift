import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// Entries logged before the directory knew their people: when an owner's addresses arrive, the participants
/// that were waiting for one of them are linked to it, and an entry without a client takes the client its
/// participant now names. Each entry changed this way is versioned and kept in the history as the system's
/// `relink`. Runs inside the caller's transaction, the tenant set.
public struct DirectoryLinks {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Links the unmatched participants with one of `emails` (lower-case) or `phones` (E.164) to `owner` `id`;
    /// returns the entries that changed.
    @discardableResult
    public func link(_ owner: ParticipantKind, id: String, emails: [String], phones: [String]) async throws -> [UUID] {
        guard !emails.isEmpty || !phones.isEmpty else { return [] }
        // The entries waiting for one of the addresses, locked, as they are before.
        var before: [UUID: String] = [:]
        for try await (entry, snapshot) in try await connection.query("""
            SELECT c.id, commlog_entry_snapshot(c)::text FROM communications c
            WHERE c.organisation_id = commlog_current_organisation()
              AND c.id IN (SELECT p.communication_id FROM participants p
                           WHERE p.organisation_id = commlog_current_organisation() AND p.ref_id IS NULL
                             AND (lower(p.address) = ANY(\(emails)) OR p.address = ANY(\(phones))))
            ORDER BY c.id
            FOR UPDATE OF c
            """, logger: logger).decode((UUID, String).self) {
            before[entry] = snapshot
        }
        guard !before.isEmpty else { return [] }
        let entries = Array(before.keys)
        try await connection.query("""
            UPDATE participants SET kind = \(owner.rawValue), ref_id = \(id)
            WHERE organisation_id = commlog_current_organisation() AND communication_id = ANY(\(entries)) AND ref_id IS NULL
              AND (lower(address) = ANY(\(emails)) OR address = ANY(\(phones)))
            """, logger: logger)
        if owner == .client {
            try await connection.query("""
                UPDATE communications SET client_id = \(id)
                WHERE organisation_id = commlog_current_organisation() AND id = ANY(\(entries)) AND client_id IS NULL
                """, logger: logger)
        }
        try await connection.query("""
            UPDATE communications SET version = version + 1, updated_at = now()
            WHERE organisation_id = commlog_current_organisation() AND id = ANY(\(entries))
            """, logger: logger)
        try await connection.query("""
            INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
            SELECT c.organisation_id, c.id, NULL, 'relink', b.before::jsonb, commlog_entry_snapshot(c)
            FROM unnest(\(entries), \(entries.map { before[$0] ?? "null" })::text[]) AS b(id, before)
            JOIN communications c ON c.organisation_id = commlog_current_organisation() AND c.id = b.id
            ORDER BY c.id
            """, logger: logger)
        return entries
    }
}
