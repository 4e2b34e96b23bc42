import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// Look-ups in the organisation's directory inside a tenant transaction: one client or patient, the lists of
/// locations and staff (the search is `DirectorySearch`'s).
///
/// Names are for every staff member of the organisation; contact details (emails, phones) only for those who may
/// see them (`mayContact`): managers and admins, the related staff of a client (for the client and its
/// connections), and a staff member for themselves.
struct DirectoryLookup {
    let connection: PostgresConnection
    let caller: Caller
    let logger: Logger

    /// A client, its patients and connections (not deleted) and its related staff; nil when the organisation
    /// has no such client.
    func client(_ id: String) async throws -> DirectoryClient? {
        var found: DirectoryClient?
        for try await (name, deleted, emails, phones, mayContact) in try await connection.query("""
            SELECT c.name, c.deleted_at IS NOT NULL, c.emails, c.phones,
                   \(caller.seesEverything) OR EXISTS (SELECT 1 FROM related_staff r
                       WHERE r.organisation_id = c.organisation_id AND r.client_id = c.id AND r.staff_id = \(caller.staffID))
            FROM clients c WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger).decode((String, Bool, [String], [String], Bool).self) {
            found = DirectoryClient(
                record: DirectoryRecord(kind: .client, id: id, name: name, emails: emails, phones: phones, mayContact: mayContact),
                deleted: deleted
            )
        }
        guard var client = found else { return nil }
        for try await (patient, name) in try await connection.query("""
            SELECT id, name FROM patients
            WHERE organisation_id = commlog_current_organisation() AND client_id = \(id) AND deleted_at IS NULL
            ORDER BY name, id
            """, logger: logger).decode((String, String).self) {
            client.patients.append(DirectoryRecord(kind: .patient, id: patient, name: name, clientID: id))
        }
        for try await (connectionID, name, relationship, emails, phones) in try await connection.query("""
            SELECT id, name, relationship, emails, phones FROM connections
            WHERE organisation_id = commlog_current_organisation() AND client_id = \(id) AND deleted_at IS NULL
            ORDER BY name, id
            """, logger: logger).decode((String, String, String?, [String], [String]).self) {
            client.connections.append(DirectoryRecord(
                kind: .connection, id: connectionID, name: name, clientID: id, relationship: relationship,
                emails: emails, phones: phones, mayContact: client.record.mayContact
            ))
        }
        for try await (staffID, name) in try await connection.query("""
            SELECT s.id, s.name FROM related_staff r
            JOIN staff s ON s.organisation_id = r.organisation_id AND s.id = r.staff_id AND s.deleted_at IS NULL
            WHERE r.organisation_id = commlog_current_organisation() AND r.client_id = \(id)
            ORDER BY s.name, s.id
            """, logger: logger).decode((String, String).self) {
            client.relatedStaff.append(DirectoryRecord(kind: .staff, id: staffID, name: name))
        }
        return client
    }

    /// A patient and its client's name; nil when the organisation has no such patient.
    func patient(_ id: String) async throws -> (record: DirectoryRecord, deleted: Bool)? {
        for try await (name, deleted, clientID, clientName) in try await connection.query("""
            SELECT p.name, p.deleted_at IS NOT NULL, p.client_id, o.name
            FROM patients p LEFT JOIN clients o ON o.organisation_id = p.organisation_id AND o.id = p.client_id
            WHERE p.organisation_id = commlog_current_organisation() AND p.id = \(id)
            """, logger: logger).decode((String, Bool, String?, String?).self) {
            return (DirectoryRecord(kind: .patient, id: id, name: name, clientID: clientID, clientName: clientName), deleted)
        }
        return nil
    }

    /// The reasons the organisation can use: the standard ones first, then its own, by label (row-level security
    /// shows both).
    func reasons() async throws -> [(code: String, label: String, active: Bool, system: Bool)] {
        var reasons: [(code: String, label: String, active: Bool, system: Bool)] = []
        for try await reason in try await connection.query("""
            SELECT code, name, active, organisation_id IS NULL FROM reasons ORDER BY organisation_id IS NOT NULL, name, code
            """, logger: logger).decode((String, String, Bool, Bool).self) {
            reasons.append(reason)
        }
        return reasons
    }

    /// The locations that are not deleted, by name.
    func locations() async throws -> [(id: String, name: String)] {
        var locations: [(id: String, name: String)] = []
        for try await (id, name) in try await connection.query("""
            SELECT id, name FROM locations WHERE organisation_id = commlog_current_organisation() AND deleted_at IS NULL ORDER BY name, id
            """, logger: logger).decode((String, String).self) {
            locations.append((id, name))
        }
        return locations
    }

    /// The staff who are not deleted, by name (or only `id`); contact details for the caller themselves, managers
    /// and admins.
    func staff(only id: String? = nil) async throws -> [DirectoryRecord] {
        var staff: [DirectoryRecord] = []
        for try await (id, name, roles, phoneExtension, email, phones) in try await connection.query("""
            SELECT id, name, roles, extension, email, phones FROM staff
            WHERE organisation_id = commlog_current_organisation() AND deleted_at IS NULL AND (\(id)::text IS NULL OR id = \(id))
            ORDER BY name, id
            """, logger: logger).decode((String, String, [String], String?, String?, [String]).self) {
            staff.append(DirectoryRecord(
                kind: .staff, id: id, name: name, roles: roles.compactMap(StaffRole.init(rawValue:)), extension: phoneExtension,
                emails: email.map { [$0] } ?? [], phones: phones, mayContact: caller.seesEverything || id == caller.staffID
            ))
        }
        return staff
    }
}

/// A client as `GET /v1/directory/clients/{id}` shows it.
struct DirectoryClient: Sendable {
    var record: DirectoryRecord
    var deleted: Bool
    var patients: [DirectoryRecord] = []
    var connections: [DirectoryRecord] = []
    var relatedStaff: [DirectoryRecord] = []
}

