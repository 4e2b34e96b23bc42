import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import PostgresNIO

/// The write side of the log: manual entries and open calls.
///
/// Every change bumps the entry's `version` (its ETag) and is kept in `audit_history` with the entry's fields
/// before and after. The rules: manual entries (source `manual`) are changed by their author or a manager
/// (or admin); a call from the phone system is edited by whoever may see it while it is open, and never after
/// it is closed; emails, SMS and reminders are never changed. What the caller may not see is a 404.
struct EntryCommands {
    let connection: PostgresConnection
    let caller: Caller
    let logger: Logger

    /// The fields of an entry the rules look at, read with the row locked.
    struct Target {
        let id: UUID
        let type: String
        let source: String
        let status: String
        let authorStaffID: String?
        let clientID: String?
        let version: Int

        var isManual: Bool { source == "manual" }
        var isPhoneSystemCall: Bool { type == "phone" && source == "phone" }
    }

    /// Logs a manual entry with the caller as its author; returns its id.
    func create(_ entry: ManualEntry) async throws -> UUID {
        let id = UUID()
        let organisation = caller.organisationID
        try await checkReason(entry.reason)
        try await checkPatient(entry.patientID, belongsTo: entry.clientID)
        try await connection.query("""
            INSERT INTO communications (organisation_id, id, type, direction, status, occurred_at, client_id, patient_id,
                location_id, author_staff_id, reason, address, subject, description, notes, source, source_ref, show_in_patient_history)
            VALUES (\(organisation), \(id), \(entry.type.rawValue), \(entry.direction?.rawValue), 'closed', \(entry.occurredAt),
                \(entry.clientID), \(entry.patientID), \(entry.locationID), \(caller.staffID), \(entry.reason), \(entry.address),
                \(entry.subject), \(entry.description), \(entry.notes), 'manual', \(id.uuidString.lowercased()), \(entry.patientID != nil))
            """, logger: logger)
        try await recordHistory(of: id, action: "create", before: nil)
        return id
    }

    /// Applies `change` to a manual entry or an open call whose version `ifMatch` names.
    func update(_ id: UUID, _ change: EntryChange, ifMatch: String) async throws {
        let target = try await lockedTarget(id)
        try Self.check(ifMatch, against: target)
        if target.isManual {
            try requireAuthorOrManager(target, "edit")
            if target.type == "note", change.direction != nil {
                throw Problem.unprocessable("direction: a note has no direction")
            }
        } else if target.isPhoneSystemCall {
            guard target.status == "open" else { throw Problem.conflict("the call is closed: a closed call never changes") }
            if let field = change.fieldsOutsideCallEdits.first {
                throw Problem.unprocessable("\(field): cannot be changed on a call; an open call takes title, description and related")
            }
        } else {
            throw Problem.conflict(Self.immutableReason(target))
        }
        // A patch without fields changes nothing: the entry is answered as it is, its version unchanged.
        if change.isEmpty { return }
        try await checkReason(change.reason.flatMap { $0 })
        if case .some(.some(let patient)) = change.patientID { try await checkPatient(patient, belongsTo: target.clientID) }

        let before = try await snapshot(id)
        var sql = SQLBuilder()
        var assignments = ["version = version + 1", "updated_at = now()"]
        for (column, value) in change.textAssignments {
            assignments.append("\(column) = \(value.map { sql.bind($0) } ?? "NULL")")
        }
        if case .some(let patient) = change.patientID {
            assignments.append("show_in_patient_history = \(sql.bind(patient != nil))")
        }
        if let occurredAt = change.occurredAt { assignments.append("occurred_at = \(sql.bind(occurredAt))") }
        if let direction = change.direction { assignments.append("direction = \(sql.bind(direction.rawValue))") }
        // Built before `sql.query` is called: the binds are added as the text is made.
        let update = """
            UPDATE communications SET \(assignments.joined(separator: ", "))
            WHERE organisation_id = \(sql.bind(caller.organisationID)) AND id = \(sql.bind(id))
            """
        try await connection.query(sql.query(update), logger: logger)
        if change.occurredAt != nil {
            // Participants carry the entry's time for the staff timelines.
            try await connection.query("""
                UPDATE participants p SET occurred_at = c.occurred_at FROM communications c
                WHERE p.organisation_id = \(caller.organisationID) AND p.communication_id = \(id)
                  AND c.organisation_id = p.organisation_id AND c.id = p.communication_id
                """, logger: logger)
        }
        if let related = change.related { try await replaceRelated(of: id, with: related) }
        try await recordHistory(of: id, action: "update", before: before)
    }

    /// Soft-deletes a manual entry.
    func delete(_ id: UUID, ifMatch: String?) async throws {
        let target = try await lockedTarget(id)
        if let ifMatch { try Self.check(ifMatch, against: target) }
        guard target.isManual else {
            throw Problem.conflict(target.type == "phone" ? "calls are never deleted" : Self.immutableReason(target))
        }
        try requireAuthorOrManager(target, "delete")
        let before = try await snapshot(id)
        try await connection.query("""
            UPDATE communications SET deleted_at = now(), deleted_by = \(caller.staffID), version = version + 1, updated_at = now()
            WHERE organisation_id = \(caller.organisationID) AND id = \(id)
            """, logger: logger)
        try await recordHistory(of: id, action: "delete", before: before)
    }

    /// Closes an open call.
    func endCall(_ id: UUID) async throws {
        let target = try await lockedTarget(id)
        guard target.type == "phone" else { throw Problem.conflict("the entry is not a call (it is of type \(target.type))") }
        guard target.status == "open" else { throw Problem.conflict("the call is already closed") }
        let before = try await snapshot(id)
        try await connection.query("""
            UPDATE communications SET status = 'closed', closed_at = now(), version = version + 1, updated_at = now()
            WHERE organisation_id = \(caller.organisationID) AND id = \(id)
            """, logger: logger)
        try await recordHistory(of: id, action: "end_call", before: before)
    }

    /// What live views are told about the entry after a change (read inside the transaction).
    func notice(_ id: UUID) async throws -> CommunicationChanged? {
        let rows = try await connection.query("""
            SELECT c.type, c.status, c.client_id,
                   array_remove(array(SELECT DISTINCT s FROM unnest(array_append(
                       array(SELECT p.ref_id FROM participants p WHERE p.organisation_id = c.organisation_id
                             AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id IS NOT NULL),
                       c.author_staff_id)) s), NULL)
            FROM communications c WHERE c.organisation_id = \(caller.organisationID) AND c.id = \(id)
            """, logger: logger)
        for try await (type, status, client, staff) in rows.decode((String, String, String?, [String]).self) {
            guard let type = CommunicationType(rawValue: type), let status = CommunicationStatus(rawValue: status) else { return nil }
            return CommunicationChanged(communicationID: id, type: type, status: status, clientID: client, staffIDs: staff.sorted())
        }
        return nil
    }

    // MARK: - Rules

    /// The entry, if the caller may see it, with its row locked until the transaction ends.
    private func lockedTarget(_ id: UUID) async throws -> Target {
        guard try await EntryQueries(connection: connection, caller: caller, logger: logger).entry(id) != nil else { throw Problem.notFound() }
        let rows = try await connection.query("""
            SELECT type, source, status, author_staff_id, client_id, version FROM communications
            WHERE organisation_id = \(caller.organisationID) AND id = \(id) AND deleted_at IS NULL FOR UPDATE
            """, logger: logger)
        for try await (type, source, status, author, client, version) in rows.decode((String, String, String, String?, String?, Int).self) {
            return Target(id: id, type: type, source: source, status: status, authorStaffID: author, clientID: client, version: version)
        }
        throw Problem.notFound()
    }

    private func requireAuthorOrManager(_ target: Target, _ verb: String) throws {
        guard caller.seesEverything || target.authorStaffID == caller.staffID else {
            throw Problem.forbidden("only the author of a manual entry or a manager may \(verb) it")
        }
    }

    /// `If-Match` against the entry's version: `*`, or any of a comma-separated list of (weak or strong) tags.
    static func check(_ ifMatch: String, against target: Target) throws {
        let tags = ifMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let current = "\"\(target.version)\""
        guard tags.contains(where: { $0 == "*" || $0 == current || $0 == "W/" + current }) else {
            throw Problem.preconditionFailed("the entry has changed since it was read (its ETag is now \(current)); reload it and try again")
        }
    }

    static func immutableReason(_ target: Target) -> String {
        switch target.type {
        case "email", "sms": "\(target.type == "sms" ? "SMS" : "email") entries are what was sent or received: they are never edited or deleted"
        case "phone": "calls from the phone system change only while open, and only their title, description and related people"
        default: "entries logged from the \(target.source == "mailbox" ? "mailbox" : "practice software") (\(target.type)) are what was sent: they are never edited or deleted"
        }
    }

    private func checkReason(_ reason: String?) async throws {
        guard let reason, !reason.isEmpty else { return }
        let rows = try await connection.query("""
            SELECT 1 FROM reasons WHERE code = \(reason) AND active
              AND (organisation_id IS NULL OR organisation_id = \(caller.organisationID)) LIMIT 1
            """, logger: logger)
        for try await _ in rows { return }
        throw Problem.unprocessable("reason: \(Problem.quoted(reason)) is not an active reason code of the organisation")
    }

    /// A known patient must belong to the entry's client; a patient the directory does not know yet is accepted.
    private func checkPatient(_ patient: String?, belongsTo client: String?) async throws {
        guard let patient, !patient.isEmpty, let client else { return }
        let rows = try await connection.query("""
            SELECT client_id FROM patients WHERE organisation_id = \(caller.organisationID) AND id = \(patient)
            """, logger: logger)
        for try await owner in rows.decode(String?.self) where owner != nil && owner != client {
            throw Problem.unprocessable("patient_id: patient \(Problem.quoted(patient)) belongs to another client")
        }
    }

    // MARK: - Storage

    private func replaceRelated(of id: UUID, with related: [RelatedPerson]) async throws {
        let organisation = caller.organisationID
        try await connection.query("""
            DELETE FROM participants WHERE organisation_id = \(organisation) AND communication_id = \(id) AND role = 'related'
            """, logger: logger)
        guard !related.isEmpty else { return }
        var seen = Set<RelatedPerson>()
        let unique = related.filter { seen.insert($0).inserted }
        try await connection.query("""
            INSERT INTO participants (organisation_id, communication_id, position, role, kind, ref_id, occurred_at)
            SELECT \(organisation), c.id,
                   coalesce((SELECT max(position) FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id), -1) + r.ordinality,
                   'related', r.kind, r.ref, c.occurred_at
            FROM communications c,
                 unnest(\(unique.map(\.kind.rawValue))::text[], \(unique.map(\.id))::text[]) WITH ORDINALITY AS r(kind, ref, ordinality)
            WHERE c.organisation_id = \(organisation) AND c.id = \(id)
            """, logger: logger)
    }

    /// The entry's fields as the audit history keeps them (its content and search vector left out), as JSON text.
    private func snapshot(_ id: UUID) async throws -> String? {
        let rows = try await connection.query("""
            SELECT (to_jsonb(c) - 'search' - 'content' - 'organisation_id' || jsonb_build_object('related', coalesce(
                       (SELECT jsonb_agg(jsonb_build_object('kind', p.kind, 'id', p.ref_id) ORDER BY p.position) FROM participants p
                        WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id AND p.role = 'related'), '[]'::jsonb)))::text
            FROM communications c WHERE c.organisation_id = \(caller.organisationID) AND c.id = \(id)
            """, logger: logger)
        for try await text in rows.decode(String.self) { return text }
        return nil
    }

    private func recordHistory(of id: UUID, action: String, before: String?) async throws {
        let after = try await snapshot(id)
        try await connection.query("""
            INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
            VALUES (\(caller.organisationID), \(id), \(caller.staffID), \(action), \(before)::jsonb, \(after)::jsonb)
            """, logger: logger)
    }
}
