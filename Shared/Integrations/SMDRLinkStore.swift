import Foundation
import Logging
import PostgresNIO
import Storage

/// The `smdr_links` table, for call-bridge (which reads the links and notes their state) and `commlog smdr`
/// (which adds, lists, disables, enables and removes them).
public struct SMDRLinkStore: Sendable {
    public let database: Database
    public let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// A link as stored; `layout` is the JSON of the PBX's SMDR options.
    public struct Link: Sendable {
        public let organisationID: String
        public let id: UUID
        public let host: String
        public let port: Int
        public let layout: String
        /// The organisation's time zone (SMDR times are local).
        public let timeZone: String
    }

    /// A link with its state, as `commlog smdr list` shows it.
    public struct Listed: Sendable {
        public let id: UUID
        public let host: String
        public let port: Int
        public let layout: String
        public let enabled: Bool
        public let lastConnectedAt: Date?
        public let lastError: String?
        public let records: Int
        public let skipped: Int
    }

    /// The enabled links of every organisation (through `commlog_smdr_links()`, which row-level security allows).
    public func enabledLinks() async throws -> [Link] {
        var links: [Link] = []
        let rows = try await database.client.query("SELECT organisation_id, id, host, port, layout::text, timezone FROM commlog_smdr_links()", logger: logger)
        for try await (organisation, id, host, port, layout, timezone) in rows.decode((String, UUID, String, Int, String, String).self) {
            links.append(Link(organisationID: organisation, id: id, host: host, port: port, layout: layout, timeZone: timezone))
        }
        return links
    }

    public func add(organisationID: String, host: String, port: Int, layoutJSON: String) async throws -> UUID? {
        try await database.withTenant(organisationID) { connection in
            for try await id in try await connection.query("""
                INSERT INTO smdr_links (organisation_id, host, port, layout) VALUES (\(organisationID), \(host), \(port), \(layoutJSON)::jsonb) RETURNING id
                """, logger: logger).decode(UUID.self) {
                return id
            }
            return nil
        }
    }

    public func list(organisationID: String) async throws -> [Listed] {
        try await database.withTenant(organisationID) { connection in
            var links: [Listed] = []
            for try await (id, host, port, layout, enabled, connected, error, records, skipped) in try await connection.query("""
                SELECT id, host, port, layout::text, enabled, last_connected_at, last_error, records_total, skipped_total
                FROM smdr_links WHERE organisation_id = \(organisationID) ORDER BY created_at
                """, logger: logger).decode((UUID, String, Int, String, Bool, Date?, String?, Int, Int).self) {
                links.append(Listed(id: id, host: host, port: port, layout: layout, enabled: enabled, lastConnectedAt: connected,
                                    lastError: error, records: records, skipped: skipped))
            }
            return links
        }
    }

    /// Enables or disables a link; false when the organisation has no such link.
    public func setEnabled(_ enabled: Bool, organisationID: String, id: UUID) async throws -> Bool {
        try await database.withTenant(organisationID) { connection in
            for try await _ in try await connection.query("""
                UPDATE smdr_links SET enabled = \(enabled) WHERE organisation_id = \(organisationID) AND id = \(id) RETURNING id
                """, logger: logger).decode(UUID.self) { return true }
            return false
        }
    }

    /// Removes a link (the calls it logged stay); false when the organisation has no such link.
    public func remove(organisationID: String, id: UUID) async throws -> Bool {
        try await database.withTenant(organisationID) { connection in
            for try await _ in try await connection.query(
                "DELETE FROM smdr_links WHERE organisation_id = \(organisationID) AND id = \(id) RETURNING id", logger: logger
            ).decode(UUID.self) { return true }
            return false
        }
    }

    /// Counts a record read from the link, or a line skipped.
    public func count(organisationID: String, id: UUID, skipped: Bool) async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query(
                skipped
                    ? "UPDATE smdr_links SET skipped_total = skipped_total + 1 WHERE organisation_id = \(organisationID) AND id = \(id)"
                    : "UPDATE smdr_links SET records_total = records_total + 1 WHERE organisation_id = \(organisationID) AND id = \(id)",
                logger: logger
            )
        }
    }

    /// Notes that the link connected (`error` nil) or failed with `error`.
    public func note(organisationID: String, id: UUID, error: String?) async throws {
        try await database.withTenant(organisationID) { connection in
            if let error {
                try await connection.query(
                    "UPDATE smdr_links SET last_error = \(error), last_error_at = now() WHERE organisation_id = \(organisationID) AND id = \(id)",
                    logger: logger)
            } else {
                try await connection.query(
                    "UPDATE smdr_links SET last_connected_at = now() WHERE organisation_id = \(organisationID) AND id = \(id)", logger: logger)
            }
        }
    }
}
