import CommlogDomain
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A call's communication after the phone's events were applied, for the announcements.
struct CallChange: Sendable {
    enum Kind: Sendable { case opened, updated }
    let kind: Kind
    let organisationID: String
    let communicationID: UUID
    let status: CommunicationStatus
    let clientID: String?
    let staffIDs: [String]
}

/// The database side of a call: its events, its communication, participants and recording.
///
/// Every method runs inside the consumer's transaction with the tenant set.
struct CallStore {
    let connection: PostgresConnection
    let logger: Logger

    /// Serialises the work on one call across replicas until the transaction ends, so that each sees the
    /// events the others committed.
    ///
    /// Callers lock calls in one global order (organisation, source, call id), so that batches never deadlock.
    func lock(source: String, callID: String) async throws {
        let rows = try await connection.query(
            "SELECT 1 FROM pg_advisory_xact_lock(hashtextextended(commlog_current_organisation() || chr(31) || \(source) || chr(31) || \(callID), 0))",
            logger: logger
        )
        // A SELECT's error (a deadlock) surfaces when its rows are read: read them, or the next statement fails instead.
        for try await _ in rows {}
    }

    /// Keeps the events (a duplicate is ignored) and returns all of the call's events.
    func record(_ events: [PhoneCallEvent], source: String, callID: String) async throws -> [PhoneCallEvent] {
        let encoder = ContractCoding.makeEncoder()
        for event in events {
            let json = String(decoding: try encoder.encode(event), as: UTF8.self)
            try await connection.query("""
                INSERT INTO call_events (organisation_id, source, call_id, seq, kind, event)
                VALUES (commlog_current_organisation(), \(source), \(callID), \(event.seq), \(event.kind.rawValue), \(json)::jsonb)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        var all: [PhoneCallEvent] = []
        let decoder = ContractCoding.makeDecoder()
        for try await json in try await connection.query("""
            SELECT event::text FROM call_events
            WHERE organisation_id = commlog_current_organisation() AND source = \(source) AND call_id = \(callID)
            ORDER BY seq, kind
            """, logger: logger).decode(String.self) {
            all.append(try decoder.decode(PhoneCallEvent.self, from: Data(json.utf8)))
        }
        return all
    }

    /// Creates or brings up to date the call's communication; nil when nothing changed (a duplicate).
    ///
    /// What the phone reports (times, outcome, duration, direction, caller, callee, handlers) is rewritten from the
    /// facts; what staff edit (title, description, related parties) is left alone, and a call staff have closed
    /// stays closed.
    func apply(_ facts: CallFacts, parties: CallParties, source: String, callID: String) async throws -> CallChange? {
        let sourceRef = "\(source):\(callID)"
        let computedStatus: CommunicationStatus = facts.closesAtOnce ? .closed : .open
        let closedAt = facts.closesAtOnce ? (facts.endedAt ?? facts.occurredAt) : nil
        if let found = try await current(sourceRef: sourceRef) {
            let (existing, closedByStaff) = (found.row, found.closedByStaff)
            // Closed by a person (end call) or by auto-close: it stays closed. Closed because the phone said missed:
            // that follows the phone, so that a late event (the answer arriving after an outcome-less end) reopens it.
            let status: CommunicationStatus = closedByStaff ? .closed : computedStatus
            let participants = try await phoneParticipants(of: existing.id)
            let row = Row(
                id: existing.id, status: status, direction: facts.direction.rawValue, occurredAt: facts.occurredAt,
                answeredAt: facts.answeredAt, endedAt: facts.endedAt,
                closedAt: closedByStaff ? existing.closedAt : closedAt,
                outcome: facts.outcome?.rawValue, durationSeconds: facts.durationSeconds,
                clientID: parties.clientID, address: parties.address, ambiguous: parties.ambiguous
            )
            guard row != existing || participants != parties.participants else { return nil }
            try await connection.query("""
                WITH before AS (
                    SELECT to_jsonb(c) - 'search' AS row FROM communications c
                    WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(existing.id)
                ), updated AS (
                    UPDATE communications SET status = \(row.status.rawValue), direction = \(row.direction), occurred_at = \(row.occurredAt),
                        answered_at = \(row.answeredAt), ended_at = \(row.endedAt), closed_at = \(row.closedAt), outcome = \(row.outcome),
                        duration_s = \(row.durationSeconds), client_id = \(row.clientID), address = \(row.address), ambiguous = \(row.ambiguous),
                        version = version + 1, updated_at = now()
                    WHERE organisation_id = commlog_current_organisation() AND id = \(existing.id)
                    RETURNING to_jsonb(communications.*) - 'search' AS row
                )
                INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
                SELECT commlog_current_organisation(), \(existing.id), NULL, 'update', before.row, updated.row FROM before, updated
                """, logger: logger)
            if participants != parties.participants {
                try await replaceParticipants(of: existing.id, with: parties.participants)
            } else if row.occurredAt != existing.occurredAt {
                try await copyOccurredAtToParticipants(of: existing.id)
            }
            return CallChange(kind: .updated, organisationID: "", communicationID: existing.id, status: status, clientID: parties.clientID, staffIDs: parties.staffIDs)
        }
        var id: UUID?
        for try await inserted in try await connection.query("""
            INSERT INTO communications (organisation_id, type, direction, status, occurred_at, answered_at, ended_at, closed_at, outcome,
                duration_s, client_id, address, source, source_ref, ambiguous)
            VALUES (commlog_current_organisation(), 'phone', \(facts.direction.rawValue), \(computedStatus.rawValue), \(facts.occurredAt),
                \(facts.answeredAt), \(facts.endedAt), \(closedAt), \(facts.outcome?.rawValue), \(facts.durationSeconds),
                \(parties.clientID), \(parties.address), 'phone', \(sourceRef), \(parties.ambiguous))
            ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
            RETURNING id
            """, logger: logger).decode(UUID.self) {
            id = inserted
        }
        guard let id else {
            // Another transaction created it first (the advisory lock makes this rare): apply on top of it.
            return try await apply(facts, parties: parties, source: source, callID: callID)
        }
        try await replaceParticipants(of: id, with: parties.participants)
        try await connection.query("""
            INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
            SELECT commlog_current_organisation(), id, NULL, 'create', NULL, to_jsonb(c) - 'search' FROM communications c
            WHERE organisation_id = commlog_current_organisation() AND id = \(id)
            """, logger: logger)
        return CallChange(kind: .opened, organisationID: "", communicationID: id, status: computedStatus, clientID: parties.clientID, staffIDs: parties.staffIDs)
    }

    /// Makes a complete upload the call's recording; false when the same audio was already stored (the upload
    /// is then dropped). Chunks of any other upload of the call (replaced audio, failed or crashed attempts) go.
    func storeRecording(url: String, contentType: String?, upload: RecordingUpload, communicationID: UUID) async throws -> Bool {
        var changed = false
        for try await _ in try await connection.query("""
            INSERT INTO recordings (organisation_id, communication_id, url, content_type, size, sha256, upload_id, chunk_size, fetched_at)
            VALUES (commlog_current_organisation(), \(communicationID), \(url), \(contentType), \(Int64(upload.size)),
                \(upload.sha256), \(upload.id), \(RecordingUpload.chunkSize), now())
            ON CONFLICT (organisation_id, communication_id) DO UPDATE
                SET url = EXCLUDED.url, content_type = EXCLUDED.content_type, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
                    upload_id = EXCLUDED.upload_id, chunk_size = EXCLUDED.chunk_size, fetched_at = EXCLUDED.fetched_at
                WHERE recordings.sha256 IS DISTINCT FROM EXCLUDED.sha256 OR recordings.upload_id IS NULL
            RETURNING 1
            """, logger: logger).decode(Int.self) {
            changed = true
        }
        if changed {
            // The row is locked now: another replica's cleanup of this call has committed, or waits for us.
            var chunks = 0
            for try await count in try await connection.query("""
                SELECT count(*) FROM recording_chunks WHERE organisation_id = commlog_current_organisation() AND upload_id = \(upload.id)
                """, logger: logger).decode(Int.self) {
                chunks = count
            }
            let expected = max(1, (upload.size + RecordingUpload.chunkSize - 1) / RecordingUpload.chunkSize)
            guard chunks == expected else { throw IncompleteUpload(expected: expected, found: chunks) }
        }
        try await connection.query("""
            DELETE FROM recording_chunks k
            WHERE k.organisation_id = commlog_current_organisation() AND k.communication_id = \(communicationID)
              AND k.upload_id IS DISTINCT FROM (SELECT r.upload_id FROM recordings r
                                                WHERE r.organisation_id = commlog_current_organisation() AND r.communication_id = \(communicationID))
            """, logger: logger)
        return changed
    }

    /// An upload lost chunks to another replica storing the same call's recording at the same time: downloaded again.
    struct IncompleteUpload: Error, CustomStringConvertible {
        let expected: Int
        let found: Int
        var description: String { "recording upload incomplete (\(found) of \(expected) chunks): another download of the call replaced it" }
    }

    /// The call as announced after a change that is not the phone's (its recording stored).
    func change(of id: UUID) async throws -> CallChange? {
        for try await (status, clientID, staffIDs) in try await connection.query("""
            SELECT c.status::text, c.client_id,
                   array(SELECT p.ref_id FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id
                         AND p.kind = 'staff' AND p.role = 'handler' AND p.ref_id IS NOT NULL ORDER BY p.position)
            FROM communications c WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger).decode((String, String?, [String]).self) {
            return CallChange(kind: .updated, organisationID: "", communicationID: id, status: CommunicationStatus(rawValue: status) ?? .open,
                              clientID: clientID, staffIDs: staffIDs)
        }
        return nil
    }

    /// The call's communication id, when it exists.
    func communicationID(source: String, callID: String) async throws -> UUID? {
        try await current(sourceRef: "\(source):\(callID)")?.row.id
    }

    // MARK: Rows

    /// The columns of a call the phone's events decide.
    struct Row: Equatable {
        var id: UUID
        var status: CommunicationStatus
        var direction: String?
        var occurredAt: Date
        var answeredAt: Date?
        var endedAt: Date?
        var closedAt: Date?
        var outcome: String?
        var durationSeconds: Int?
        var clientID: String?
        var address: String?
        var ambiguous: Bool
    }

    /// The call's row (its start as the phone gave it, `claimed_at` when later than the receipt), and whether a
    /// person (or auto-close) closed it.
    private func current(sourceRef: String) async throws -> (row: Row, closedByStaff: Bool)? {
        let rows = try await connection.query("""
            SELECT id, status, direction, coalesce(claimed_at, occurred_at), answered_at, ended_at, closed_at, outcome, duration_s, client_id, address, ambiguous,
                   status = 'closed' AND EXISTS (SELECT 1 FROM audit_history a WHERE a.organisation_id = c.organisation_id
                                                   AND a.communication_id = c.id AND a.action IN ('end_call', 'auto_close'))
            FROM communications c
            WHERE organisation_id = commlog_current_organisation() AND source = 'phone' AND source_ref = \(sourceRef)
            FOR UPDATE OF c
            """, logger: logger)
        for try await (id, status, direction, occurredAt, answeredAt, endedAt, closedAt, outcome, duration, client, address, ambiguous, closedByStaff) in rows.decode(
            (UUID, String, String?, Date, Date?, Date?, Date?, String?, Int?, String?, String?, Bool, Bool).self
        ) {
            return (Row(
                id: id, status: CommunicationStatus(rawValue: status) ?? .open, direction: direction, occurredAt: occurredAt,
                answeredAt: answeredAt, endedAt: endedAt, closedAt: closedAt, outcome: outcome, durationSeconds: duration,
                clientID: client, address: address, ambiguous: ambiguous
            ), closedByStaff)
        }
        return nil
    }

    /// The participants the phone decides (caller, callee, handler), in order; `related` ones are staff's.
    private func phoneParticipants(of id: UUID) async throws -> [Participant] {
        var result: [Participant] = []
        let rows = try await connection.query("""
            SELECT role, kind, ref_id, address, name FROM participants
            WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) AND role IN ('caller', 'callee', 'handler')
            ORDER BY position
            """, logger: logger)
        for try await (role, kind, refID, address, name) in rows.decode((String, String, String?, String?, String?).self) {
            guard let role = ParticipantRole(rawValue: role), let kind = ParticipantKind(rawValue: kind) else { continue }
            result.append(Participant(role: role, kind: kind, id: refID, address: address, name: name))
        }
        return result
    }

    /// The call's `occurred_at` as stored (no later than its receipt, migration 0013) onto its participants.
    private func copyOccurredAtToParticipants(of id: UUID) async throws {
        try await connection.query("""
            UPDATE participants p SET occurred_at = c.occurred_at FROM communications c
            WHERE c.organisation_id = p.organisation_id AND c.id = p.communication_id
              AND p.organisation_id = commlog_current_organisation() AND p.communication_id = \(id)
            """, logger: logger)
    }

    private func replaceParticipants(of id: UUID, with participants: [Participant]) async throws {
        try await connection.query("""
            DELETE FROM participants
            WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) AND role IN ('caller', 'callee', 'handler')
            """, logger: logger)
        try await copyOccurredAtToParticipants(of: id)
        guard !participants.isEmpty else { return }
        try await connection.query("""
            INSERT INTO participants (organisation_id, communication_id, position, role, kind, ref_id, address, name, occurred_at)
            SELECT commlog_current_organisation(), \(id),
                   (SELECT coalesce(max(position), -1) FROM participants WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id)) + p.n,
                   p.role, p.kind, nullif(p.ref_id, ''), nullif(p.address, ''), nullif(p.name, ''),
                   (SELECT occurred_at FROM communications WHERE organisation_id = commlog_current_organisation() AND id = \(id))
            FROM unnest(\(participants.map(\.role.rawValue))::text[], \(participants.map(\.kind.rawValue))::text[],
                        \(participants.map { $0.id ?? "" })::text[], \(participants.map { $0.address ?? "" })::text[],
                        \(participants.map { $0.name ?? "" })::text[])
                 WITH ORDINALITY AS p(role, kind, ref_id, address, name, n)
            """, logger: logger)
    }
}
