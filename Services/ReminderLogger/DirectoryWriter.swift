import CommlogDomain
import Foundation
import LogStore
import Logging
import PostgresNIO

/// Applies directory events (organisations, locations, staff, clients, patients, connections) to the tables
/// that matching and visibility read, in the transaction's organisation.
///
/// Every upsert carries the event's time: an older event never overwrites a newer one. Addresses go into
/// `contact_points`, and participants left unmatched earlier are matched as the directory learns them.
struct DirectoryWriter {
    let connection: PostgresConnection
    let logger: Logger

    func apply(_ event: InboundEvent) async throws {
        switch event {
        case .organisationUpserted(let envelope):
            let data = envelope.data
            try await connection.query("""
                INSERT INTO organisations (id, name, timezone, logging_enabled, source_at)
                VALUES (\(envelope.organisationID), \(data.name), \(data.timezone ?? "UTC"), \(data.loggingEnabled), \(envelope.occurredAt))
                ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, timezone = EXCLUDED.timezone,
                    logging_enabled = EXCLUDED.logging_enabled, deleted_at = NULL, source_at = EXCLUDED.source_at, updated_at = now()
                WHERE organisations.source_at IS NULL OR organisations.source_at <= EXCLUDED.source_at
                """, logger: logger)
        case .locationUpserted(let envelope):
            let data = envelope.data
            try await connection.query("""
                INSERT INTO locations (organisation_id, id, name, logging_enabled, source_at)
                VALUES (\(envelope.organisationID), \(data.locationID), \(data.name), \(data.loggingEnabled), \(envelope.occurredAt))
                ON CONFLICT (organisation_id, id) DO UPDATE SET name = EXCLUDED.name, logging_enabled = EXCLUDED.logging_enabled,
                    deleted_at = NULL, source_at = EXCLUDED.source_at, updated_at = now()
                WHERE locations.source_at IS NULL OR locations.source_at <= EXCLUDED.source_at
                """, logger: logger)
        case .staffUpserted(let envelope):
            let data = envelope.data
            let applied = try await returnsRow("""
                INSERT INTO staff (organisation_id, id, name, email, roles, extension, phones, source_at)
                VALUES (\(envelope.organisationID), \(data.staffID), \(data.name), \(data.email), \(data.roles.map(\.rawValue)),
                        \(data.phoneExtension), \(data.phones), \(envelope.occurredAt))
                ON CONFLICT (organisation_id, id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, roles = EXCLUDED.roles,
                    extension = EXCLUDED.extension, phones = EXCLUDED.phones, deleted_at = NULL, source_at = EXCLUDED.source_at, updated_at = now()
                WHERE staff.source_at IS NULL OR staff.source_at <= EXCLUDED.source_at
                RETURNING id
                """)
            if applied {
                try await replaceContacts(of: .staff, id: data.staffID, emails: data.email.map { [$0] } ?? [], phones: data.phones, extensions: data.phoneExtension.map { [$0] } ?? [])
            }
        case .clientUpserted(let envelope):
            let data = envelope.data
            let applied = try await returnsRow("""
                INSERT INTO clients (organisation_id, id, name, emails, phones, source_at)
                VALUES (\(envelope.organisationID), \(data.clientID), \(data.name), \(data.emails), \(data.phones), \(envelope.occurredAt))
                ON CONFLICT (organisation_id, id) DO UPDATE SET name = EXCLUDED.name, emails = EXCLUDED.emails, phones = EXCLUDED.phones,
                    deleted_at = NULL, source_at = EXCLUDED.source_at, updated_at = now()
                WHERE clients.source_at IS NULL OR clients.source_at <= EXCLUDED.source_at
                RETURNING id
                """)
            if applied {
                try await connection.query("DELETE FROM related_staff WHERE organisation_id = commlog_current_organisation() AND client_id = \(data.clientID)", logger: logger)
                try await connection.query("""
                    INSERT INTO related_staff (organisation_id, client_id, staff_id)
                    SELECT commlog_current_organisation(), \(data.clientID), unnest(\(data.relatedStaffIDs)::text[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
                try await replaceContacts(of: .client, id: data.clientID, emails: data.emails, phones: data.phones)
            }
        case .patientUpserted(let envelope):
            let data = envelope.data
            try await connection.query("""
                INSERT INTO patients (organisation_id, id, client_id, name, source_at)
                VALUES (\(envelope.organisationID), \(data.patientID), \(data.clientID), \(data.name), \(envelope.occurredAt))
                ON CONFLICT (organisation_id, id) DO UPDATE SET client_id = EXCLUDED.client_id, name = EXCLUDED.name,
                    deleted_at = NULL, source_at = EXCLUDED.source_at, updated_at = now()
                WHERE patients.source_at IS NULL OR patients.source_at <= EXCLUDED.source_at
                """, logger: logger)
        case .connectionUpserted(let envelope):
            let data = envelope.data
            let applied = try await returnsRow("""
                INSERT INTO connections (organisation_id, id, client_id, name, relationship, emails, phones, source_at)
                VALUES (\(envelope.organisationID), \(data.connectionID), \(data.clientID), \(data.name), \(data.relationship),
                        \(data.emails), \(data.phones), \(envelope.occurredAt))
                ON CONFLICT (organisation_id, id) DO UPDATE SET client_id = EXCLUDED.client_id, name = EXCLUDED.name,
                    relationship = EXCLUDED.relationship, emails = EXCLUDED.emails, phones = EXCLUDED.phones,
                    deleted_at = NULL, source_at = EXCLUDED.source_at, updated_at = now()
                WHERE connections.source_at IS NULL OR connections.source_at <= EXCLUDED.source_at
                RETURNING id
                """)
            if applied {
                try await replaceContacts(of: .connection, id: data.connectionID, emails: data.emails, phones: data.phones)
            }
        case .directoryDeleted(let envelope):
            try await delete(envelope.data.entity, id: envelope.data.id, at: envelope.occurredAt)
        default:
            preconditionFailure("not a directory event: \(event.type)")
        }
    }

    /// Soft-deletes the entity (entries keep referring to it) and forgets its addresses and whom it relates to
    /// (a deleted staff member no longer sees their clients' entries); a delete older than the record's last
    /// change is ignored.
    private func delete(_ entity: DirectoryEntity, id: String, at time: Date) async throws {
        let table = switch entity {
        case .organisation: "organisations"
        case .location: "locations"
        case .staff: "staff"
        case .client: "clients"
        case .patient: "patients"
        case .connection: "connections"
        }
        let key = entity == .organisation ? "id" : "organisation_id = commlog_current_organisation() AND id"
        let applied = try await returnsRow(PostgresQuery(unsafeSQL: """
            UPDATE \(table) SET deleted_at = now(), source_at = $2, updated_at = now()
            WHERE \(key) = $1 AND (source_at IS NULL OR source_at <= $2)
            RETURNING id
            """, binds: bindings(id, time)))
        guard applied else { return }
        switch entity {
        case .staff, .client, .connection:
            try await connection.query(
                "DELETE FROM contact_points WHERE organisation_id = commlog_current_organisation() AND owner_kind = \(entity.rawValue) AND owner_id = \(id)",
                logger: logger
            )
            if entity == .client {
                try await connection.query("DELETE FROM related_staff WHERE organisation_id = commlog_current_organisation() AND client_id = \(id)", logger: logger)
            }
            if entity == .staff {
                try await connection.query("DELETE FROM related_staff WHERE organisation_id = commlog_current_organisation() AND staff_id = \(id)", logger: logger)
            }
        default:
            break
        }
    }

    /// Replaces an owner's addresses and matches the participants that were waiting for one of them.
    private func replaceContacts(of owner: ParticipantKind, id: String, emails: [String], phones: [String], extensions: [String] = []) async throws {
        let emails = Array(Set(emails.compactMap(ContactAddress.email)))
        let phones = Array(Set(phones.compactMap(ContactAddress.phone)))
        try await connection.query(
            "DELETE FROM contact_points WHERE organisation_id = commlog_current_organisation() AND owner_kind = \(owner.rawValue) AND owner_id = \(id)",
            logger: logger
        )
        try await connection.query("""
            INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id)
            SELECT commlog_current_organisation(), kind, value, \(owner.rawValue), \(id)
            FROM (SELECT 'email' AS kind, unnest(\(emails)::text[]) AS value
                  UNION ALL SELECT 'phone', unnest(\(phones)::text[])
                  UNION ALL SELECT 'extension', unnest(\(extensions)::text[])) AS points
            ON CONFLICT DO NOTHING
            """, logger: logger)
        try await DirectoryLinks(connection: connection, logger: logger).link(owner, id: id, emails: emails, phones: phones)
    }

    private func returnsRow(_ query: PostgresQuery) async throws -> Bool {
        for try await _ in try await connection.query(query, logger: logger) { return true }
        return false
    }

    private func bindings(_ id: String, _ time: Date) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(id)
        bindings.append(time)
        return bindings
    }
}
