import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// One entry per email across sources: the practice software's `practice.email.sent` (with its `message_id`) and
/// a shared mailbox's copy of the same message (its Message-ID header) are one communication. Whichever arrives
/// first is logged; the other completes it: a mailbox copy adds the raw message, the HTML and the participants
/// the entry lacked; a practice event brings its reason, author, patient, client, location and template, which
/// win. Each completion is a change of the entry (version, `merge` in its history, `communication.updated`);
/// completing it again with the same copy changes nothing, so redeliveries and replays are harmless.
///
/// A copy is the same message only if its sender and subject agree with the entry's too, so that someone who
/// reuses a Message-ID (in a message of their own) cannot attach their message to an entry; such a copy is logged
/// apart, without the Message-ID.
///
/// Runs in the writer's transaction, the tenant set. Message-IDs are locked (transaction-scoped advisory locks,
/// in sorted order) before they are looked up, so that the practice event and the mailbox copy logged at the same
/// moment by two programs cannot both become entries.
public struct SameMessage {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// What becomes of entries about to be logged.
    public struct Sorting: Sendable {
        /// To insert as they are (new messages, and entries without a Message-ID).
        public var insert: [NewCommunication] = []
        /// Copies of messages already logged by another source: each completes the entry `into`.
        public var complete: [(copy: NewCommunication, into: UUID)] = []
    }

    /// Sorts `entries`: those whose Message-ID an entry of another source already has complete it; the same
    /// message from the same source again is left to the insert's idempotency.
    public func sort(_ entries: [NewCommunication]) async throws -> Sorting {
        let ids = Array(Set(entries.compactMap(\.messageID))).sorted()
        var sorting = Sorting()
        guard !ids.isEmpty else {
            sorting.insert = entries
            return sorting
        }
        try await connection.query("""
            SELECT pg_advisory_xact_lock(hashtextextended(commlog_current_organisation() || E'\\n' || m, 7301))
            FROM unnest(\(ids)::text[]) AS m ORDER BY m
            """, logger: logger)
        var existing: [String: Existing] = [:]
        for try await (id, messageID, source, subject, sender) in try await connection.query("""
            SELECT c.id, c.message_id, c.source, c.subject,
                   (SELECT lower(p.address) FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id
                    AND p.role = 'from' ORDER BY p.position LIMIT 1)
            FROM communications c
            WHERE c.organisation_id = commlog_current_organisation() AND c.message_id = ANY(\(ids)) AND c.deleted_at IS NULL
            ORDER BY c.created_at, c.id
            """, logger: logger).decode((UUID, String, String, String?, String?).self) where existing[messageID] == nil {
            existing[messageID] = Existing(id: id, source: source, subject: subject, sender: sender)
        }
        for entry in entries {
            guard let messageID = entry.messageID, let found = existing[messageID] else {
                sorting.insert.append(entry)
                // The first of the batch with this id is the message; the practice software's events after it are not.
                if let messageID = entry.messageID { existing[messageID] = Existing(entry) }
                continue
            }
            guard found.source != entry.source.rawValue else {
                // The same source again. A mailbox's copy is recognised by its source_ref (and another message
                // reusing the id is kept apart by the ingestor); the practice software's event for a message it
                // sent already, under another event id, is a duplicate.
                if entry.source != .practice { sorting.insert.append(entry) }
                continue
            }
            if found.isSameMessage(as: entry) {
                sorting.complete.append((entry, found.id))
            } else {
                // Another message under the same Message-ID: logged apart, and never merged with either.
                var apart = entry
                apart.messageID = nil
                sorting.insert.append(apart)
            }
        }
        return sorting
    }

    /// Completes entry `id` (logged from the practice software) with a mailbox's copy of the message; returns
    /// whether anything changed.
    public func complete(_ id: UUID, withMailboxCopy copy: NewCommunication, raw: [UInt8], html: String?) async throws -> Bool {
        let log = EntryLog(connection: connection, logger: logger)
        let before = try await log.snapshot(id)
        var changed = try await keep(raw: raw, html: html, of: id)
        changed = try await addMissingParticipants(copy.participants, to: id) || changed
        // The text of the message where the practice event gave none.
        let filled = try await connection.query("""
            UPDATE communications SET content = \(copy.content) WHERE organisation_id = commlog_current_organisation() AND id = \(id)
              AND content IS NULL AND \(copy.content)::text IS NOT NULL RETURNING 1
            """, logger: logger)
        for try await _ in filled { changed = true }
        if changed { try await recordMerge(of: id, before: before, log: log) }
        return changed
    }

    /// Completes entry `id` (imported from a mailbox) with the practice software's event for the message: its
    /// reason, author, patient, client, location and template win; the mailbox's raw message and HTML are kept.
    public func complete(_ id: UUID, withPracticeEvent event: NewCommunication, html: String?) async throws -> Bool {
        let log = EntryLog(connection: connection, logger: logger)
        let before = try await log.snapshot(id)
        var changed = false
        let updated = try await connection.query("""
            UPDATE communications SET
                reason = coalesce(\(event.reason?.rawValue), reason), author_staff_id = coalesce(\(event.authorStaffID), author_staff_id),
                patient_id = coalesce(\(event.patientID), patient_id), client_id = coalesce(\(event.clientID), client_id),
                location_id = coalesce(\(event.locationID), location_id), template = coalesce(\(event.template), template),
                notes = coalesce(notes, \(event.notes)), show_in_patient_history = show_in_patient_history OR \(event.showInPatientHistory)
            WHERE organisation_id = commlog_current_organisation() AND id = \(id) AND (
                reason IS DISTINCT FROM coalesce(\(event.reason?.rawValue), reason)
                OR author_staff_id IS DISTINCT FROM coalesce(\(event.authorStaffID), author_staff_id)
                OR patient_id IS DISTINCT FROM coalesce(\(event.patientID), patient_id)
                OR client_id IS DISTINCT FROM coalesce(\(event.clientID), client_id)
                OR location_id IS DISTINCT FROM coalesce(\(event.locationID), location_id)
                OR template IS DISTINCT FROM coalesce(\(event.template), template)
                OR (notes IS NULL AND \(event.notes)::text IS NOT NULL)
                OR (\(event.showInPatientHistory) AND NOT show_in_patient_history))
            RETURNING 1
            """, logger: logger)
        for try await _ in updated { changed = true }
        changed = try await keep(raw: nil, html: html, of: id) || changed
        changed = try await addMissingParticipants(event.participants, to: id) || changed
        if changed { try await recordMerge(of: id, before: before, log: log) }
        return changed
    }

    // MARK: Parts

    private struct Existing {
        let id: UUID
        let source: String
        let subject: String?
        let sender: String?

        init(id: UUID, source: String, subject: String?, sender: String?) {
            self.id = id
            self.source = source
            self.subject = subject
            self.sender = sender
        }

        /// An entry of the batch about to be inserted (its id not known yet: it is only compared by source).
        init(_ entry: NewCommunication) {
            self.init(id: UUID(), source: entry.source.rawValue, subject: entry.subject,
                      sender: entry.participants.first { $0.role == .from }?.address?.lowercased())
        }

        /// The same sender and subject (whitespace and case aside): the copy is the message, not another one that
        /// reuses its id.
        func isSameMessage(as entry: NewCommunication) -> Bool {
            let entrySender = entry.participants.first { $0.role == .from }?.address?.lowercased()
            return Self.comparable(subject) == Self.comparable(entry.subject) && (sender == nil || entrySender == nil || sender == entrySender)
        }

        static func comparable(_ text: String?) -> String {
            (text ?? "").lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        }
    }

    /// Keeps the raw message and the HTML where the entry has none yet; whether anything was kept.
    private func keep(raw: [UInt8]?, html: String?, of id: UUID) async throws -> Bool {
        let html = html.flatMap { $0.isEmpty ? nil : $0 }
        guard raw != nil || html != nil else { return false }
        let rows = try await connection.query("""
            INSERT INTO contents AS k (organisation_id, communication_id, raw, html)
            VALUES (commlog_current_organisation(), \(id), \(raw.map { ByteBuffer(bytes: $0) }), \(html))
            ON CONFLICT (organisation_id, communication_id) DO UPDATE SET raw = coalesce(k.raw, excluded.raw), html = coalesce(k.html, excluded.html)
            WHERE (k.raw IS NULL AND excluded.raw IS NOT NULL) OR (k.html IS NULL AND excluded.html IS NOT NULL)
            RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Adds the participants the entry lacks (by role and address, or by role and directory record); whether any.
    private func addMissingParticipants(_ participants: [Participant], to id: UUID) async throws -> Bool {
        guard !participants.isEmpty else { return false }
        let rows = try await connection.query("""
            INSERT INTO participants (organisation_id, communication_id, position, role, kind, ref_id, address, name, occurred_at)
            SELECT c.organisation_id, c.id,
                   coalesce((SELECT max(x.position) FROM participants x WHERE x.organisation_id = c.organisation_id AND x.communication_id = c.id), -1)
                     + row_number() OVER (ORDER BY n.ordinality),
                   n.role, n.kind, nullif(n.ref, ''), nullif(n.address, ''), nullif(n.name, ''), c.occurred_at
            FROM communications c,
                 unnest(\(participants.map(\.role.rawValue))::text[], \(participants.map(\.kind.rawValue))::text[],
                        \(participants.map { $0.id ?? "" })::text[], \(participants.map { $0.address ?? "" })::text[],
                        \(participants.map { $0.name ?? "" })::text[]) WITH ORDINALITY AS n(role, kind, ref, address, name, ordinality)
            WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
              AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id
                  AND p.role = n.role AND (lower(p.address) = lower(nullif(n.address, '')) OR (p.ref_id = nullif(n.ref, '') AND p.kind = n.kind)))
            RETURNING 1
            """, logger: logger)
        var added = false
        for try await _ in rows { added = true }
        return added
    }

    private func recordMerge(of id: UUID, before: String?, log: EntryLog) async throws {
        try await connection.query("""
            UPDATE communications SET version = version + 1, updated_at = now() WHERE organisation_id = commlog_current_organisation() AND id = \(id)
            """, logger: logger)
        try await log.recordHistory(of: id, action: .merge, by: .system, before: before)
    }
}
