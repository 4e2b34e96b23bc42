import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// The owner of the log's entries: every change of `communications`, `participants` and `audit_history` after
/// an entry was logged goes through here (`CommunicationWriter` logs new entries in bulk).
///
/// Runs inside the caller's transaction, the tenant set. Every change bumps the entry's `version` (its ETag)
/// and writes one `audit_history` row whose `before` and `after` have one shape for every writer
/// (`commlog_entry_snapshot`, migration 0015). The rules: manual entries are changed by their author or a
/// manager; a call from the phone system is edited while it is open, and never after it is closed; emails,
/// SMS and reminders never change. Refusals are `LogError`s.
public struct EntryLog {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    // MARK: Reading

    /// The entry's fields the rules look at, its row locked until the transaction ends; `notFound` when it does
    /// not exist or is deleted. Whether the actor may see it is the reader's decision, made before.
    public func locked(_ id: UUID) async throws -> StoredEntry {
        let rows = try await connection.query("""
            SELECT \(unescaped: StoredEntry.selectList) FROM communications c
            WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id) AND c.deleted_at IS NULL FOR UPDATE
            """, logger: logger)
        for try await row in rows { return try StoredEntry(row.makeRandomAccess()) }
        throw LogError.notFound
    }

    /// What live views are told about the entry after a change.
    public func notice(_ id: UUID) async throws -> CommunicationChanged? {
        let rows = try await connection.query("""
            SELECT c.type, c.status, c.client_id,
                   array_remove(array(SELECT DISTINCT s FROM unnest(array_append(
                       array(SELECT p.ref_id FROM participants p WHERE p.organisation_id = c.organisation_id
                             AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id IS NOT NULL),
                       c.author_staff_id)) s), NULL)
            FROM communications c WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger)
        for try await (type, status, client, staff) in rows.decode((String, String, String?, [String]).self) {
            guard let type = CommunicationType(rawValue: type), let status = CommunicationStatus(rawValue: status) else { return nil }
            return CommunicationChanged(communicationID: id, type: type, status: status, clientID: client, staffIDs: staff.sorted())
        }
        return nil
    }

    // MARK: Manual entries

    /// Logs a manual entry with `author` as its author; returns its id.
    public func create(_ entry: ManualEntry, author: String) async throws -> UUID {
        let id = UUID()
        try await checkReason(entry.reason)
        try await checkPatient(entry.patientID, belongsTo: entry.clientID)
        try await connection.query("""
            INSERT INTO communications (organisation_id, id, type, direction, status, occurred_at, client_id, patient_id,
                location_id, author_staff_id, reason, address, subject, description, notes, source, source_ref, show_in_patient_history)
            VALUES (commlog_current_organisation(), \(id), \(entry.type.rawValue), \(entry.direction?.rawValue), 'closed', \(entry.occurredAt),
                \(entry.clientID), \(entry.patientID), \(entry.locationID), \(author), \(entry.reason), \(entry.address),
                \(entry.subject), \(entry.description), \(entry.notes), 'manual', \(id.uuidString.lowercased()), \(entry.patientID != nil))
            """, logger: logger)
        try await recordHistory(of: id, action: .create, by: LogActor(staffID: author, isManager: false), before: nil)
        return id
    }

    /// Applies `change` to a manual entry or an open call whose version `ifMatch` names.
    public func update(_ id: UUID, _ change: EntryChange, ifMatch: String, by actor: LogActor) async throws {
        let target = try await locked(id)
        try target.check(ifMatch: ifMatch)
        if change.isFilingOnly {
            // Where an entry is filed may be corrected on any entry (what was sent stays as it was).
        } else if target.isManual {
            try requireAuthorOrManager(target, actor, "edit")
            if target.type == .note, change.direction != nil { throw LogError.invalid(field: "direction", "a note has no direction") }
        } else if target.isPhoneSystemCall {
            guard target.status == .open else { throw LogError.immutable("the call is closed: a closed call never changes") }
            if let field = change.fieldsOutsideCallEdits.first {
                throw LogError.invalid(field: field, "cannot be changed on a call; an open call takes title, description and related")
            }
        } else {
            throw LogError.immutable(target.immutableReason)
        }
        // A change without fields changes nothing: the entry stays as it is, its version unchanged.
        if change.isEmpty { return }
        try await checkReason(change.reason.flatMap { $0 })
        if case .some(.some(let patient)) = change.patientID { try await checkPatient(patient, belongsTo: change.clientID ?? target.clientID) }

        let before = try await snapshot(id)
        var sql = SQLBuilder()
        var assignments = ["version = version + 1", "updated_at = now()"]
        for (column, value) in change.textAssignments {
            assignments.append("\(column) = \(value.map { sql.bind($0) } ?? "NULL")")
        }
        if let client = change.clientID ?? Self.clientToFile(target, under: change.related) {
            assignments.append("client_id = \(sql.bind(client))")
        }
        if let show = change.showInPatientHistory {
            assignments.append("show_in_patient_history = \(sql.bind(show))")
        } else if case .some(let patient) = change.patientID {
            assignments.append("show_in_patient_history = \(sql.bind(patient != nil))")
        }
        if let print = change.printInPatientHistory { assignments.append("print_in_patient_history = \(sql.bind(print))") }
        if let occurredAt = change.occurredAt { assignments.append("occurred_at = \(sql.bind(occurredAt))") }
        if let direction = change.direction { assignments.append("direction = \(sql.bind(direction.rawValue))") }
        // Built before `sql.query` is called: the binds are added as the text is made.
        let update = """
            UPDATE communications SET \(assignments.joined(separator: ", "))
            WHERE organisation_id = commlog_current_organisation() AND id = \(sql.bind(id))
            """
        try await connection.query(sql.query(update), logger: logger)
        if change.occurredAt != nil { try await copyOccurredAtToParticipants(of: id) }
        if let related = change.related { try await replaceRelated(of: id, with: related) }
        try await recordHistory(of: id, action: .update, by: actor, before: before)
    }

    /// Soft-deletes a manual entry.
    public func delete(_ id: UUID, ifMatch: String?, by actor: LogActor) async throws {
        let target = try await locked(id)
        if let ifMatch { try target.check(ifMatch: ifMatch) }
        guard target.isManual else {
            throw LogError.immutable(target.type == .phone ? "calls are never deleted" : target.immutableReason)
        }
        try requireAuthorOrManager(target, actor, "delete")
        let before = try await snapshot(id)
        try await connection.query("""
            UPDATE communications SET deleted_at = now(), deleted_by = \(actor.staffID), version = version + 1, updated_at = now()
            WHERE organisation_id = commlog_current_organisation() AND id = \(id)
            """, logger: logger)
        try await recordHistory(of: id, action: .delete, by: actor, before: before)
    }

    /// Closes an open call.
    public func endCall(_ id: UUID, by actor: LogActor) async throws {
        let target = try await locked(id)
        guard target.type == .phone else { throw LogError.immutable("the entry is not a call (it is of type \(target.type.rawValue))") }
        guard target.status == .open else { throw LogError.immutable("the call is already closed") }
        let before = try await snapshot(id)
        try await connection.query("""
            UPDATE communications SET status = 'closed', closed_at = now(), version = version + 1, updated_at = now()
            WHERE organisation_id = commlog_current_organisation() AND id = \(id)
            """, logger: logger)
        try await recordHistory(of: id, action: .endCall, by: actor, before: before)
    }

    // MARK: Rules

    /// An entry filed under no client, whose related people now name one (a call's "Related To"), is filed under it.
    static func clientToFile(_ target: StoredEntry, under related: [RelatedPerson]?) -> String? {
        guard target.clientID == nil else { return nil }
        return related?.first { $0.kind == .client }?.id
    }

    private func requireAuthorOrManager(_ target: StoredEntry, _ actor: LogActor, _ verb: String) throws {
        guard actor.isManager || (actor.staffID != nil && target.authorStaffID == actor.staffID) else {
            throw LogError.notAllowed("only the author of a manual entry or a manager may \(verb) it")
        }
    }

    private func checkReason(_ reason: String?) async throws {
        guard let reason, !reason.isEmpty else { return }
        let rows = try await connection.query("""
            SELECT 1 FROM reasons WHERE code = \(reason) AND active
              AND (organisation_id IS NULL OR organisation_id = commlog_current_organisation()) LIMIT 1
            """, logger: logger)
        for try await _ in rows { return }
        throw LogError.invalid(field: "reason", "\"\(reason)\" is not an active reason code of the organisation")
    }

    /// A known patient must belong to the entry's client; a patient the directory does not know yet is accepted.
    private func checkPatient(_ patient: String?, belongsTo client: String?) async throws {
        guard let patient, !patient.isEmpty, let client else { return }
        let rows = try await connection.query("""
            SELECT client_id FROM patients WHERE organisation_id = commlog_current_organisation() AND id = \(patient)
            """, logger: logger)
        for try await owner in rows.decode(String?.self) where owner != nil && owner != client {
            throw LogError.invalid(field: "patient_id", "patient \"\(patient)\" belongs to another client")
        }
    }

    // MARK: Participants

    private func replaceRelated(of id: UUID, with related: [RelatedPerson]) async throws {
        try await connection.query("""
            DELETE FROM participants WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) AND role = 'related'
            """, logger: logger)
        guard !related.isEmpty else { return }
        var seen = Set<RelatedPerson>()
        let unique = related.filter { seen.insert($0).inserted }
        try await connection.query("""
            INSERT INTO participants (organisation_id, communication_id, position, role, kind, ref_id, occurred_at)
            SELECT c.organisation_id, c.id,
                   coalesce((SELECT max(position) FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id), -1) + r.ordinality,
                   'related', r.kind, r.ref, c.occurred_at
            FROM communications c,
                 unnest(\(unique.map(\.kind.rawValue))::text[], \(unique.map(\.id))::text[]) WITH ORDINALITY AS r(kind, ref, ordinality)
            WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger)
    }

    /// The entry's `occurred_at` as stored (no later than its receipt, migration 0013) onto its participants,
    /// which carry it for the staff timelines.
    func copyOccurredAtToParticipants(of id: UUID) async throws {
        try await connection.query("""
            UPDATE participants p SET occurred_at = c.occurred_at FROM communications c
            WHERE c.organisation_id = p.organisation_id AND c.id = p.communication_id
              AND p.organisation_id = commlog_current_organisation() AND p.communication_id = \(id)
            """, logger: logger)
    }

    // MARK: History

    /// The entry as the history keeps it, as JSON text.
    func snapshot(_ id: UUID) async throws -> String? {
        let rows = try await connection.query("""
            SELECT commlog_entry_snapshot(c)::text FROM communications c WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger)
        for try await text in rows.decode(String.self) { return text }
        return nil
    }

    /// One history row: `before` as `snapshot` gave it, the entry as it is now after.
    func recordHistory(of id: UUID, action: HistoryAction, by actor: LogActor, before: String?) async throws {
        try await connection.query("""
            INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
            SELECT c.organisation_id, c.id, \(actor.staffID), \(action.rawValue), \(before)::jsonb, commlog_entry_snapshot(c)
            FROM communications c WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger)
    }
}

/// What a history row says happened.
public enum HistoryAction: String, Sendable {
    case create, update, delete
    case endCall = "end_call"
    case autoClose = "auto_close"
    /// The system linked the entry to a directory record it was waiting for.
    case relink
    /// The same message from another source completed the entry (`SameMessage`).
    case merge
}
