import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// A call's entry as the phone system's events make it: what call-bridge folds from them and matches.
public struct PhoneCallState: Equatable, Sendable {
    public var direction: Direction
    /// When it started ringing (or was answered), as the phone gave it.
    public var occurredAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    public var outcome: CallOutcome?
    public var durationSeconds: Int?
    /// Nobody answered (missed, busy, failed): the entry is closed at once, when the call ended.
    public var closesAtOnce: Bool
    public var clientID: String?
    /// The external number, normalised.
    public var address: String?
    /// More than one client or connection owns the external number.
    public var ambiguous: Bool
    /// Caller, callee and handlers, in order.
    public var participants: [Participant]

    public init(
        direction: Direction, occurredAt: Date, answeredAt: Date?, endedAt: Date?, outcome: CallOutcome?, durationSeconds: Int?,
        closesAtOnce: Bool, clientID: String?, address: String?, ambiguous: Bool, participants: [Participant]
    ) {
        self.direction = direction
        self.occurredAt = occurredAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.closesAtOnce = closesAtOnce
        self.clientID = clientID
        self.address = address
        self.ambiguous = ambiguous
        self.participants = participants
    }
}

/// The log's side of calls from the phone system: their entries, recordings, and auto-close. Runs inside the
/// caller's transaction, the tenant set; every change is versioned and kept in the history, by the system.
public struct PhoneCallLog {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// What `apply` did to the call's entry.
    public struct Applied: Sendable, Equatable {
        public enum Kind: Sendable { case opened, updated }
        public let kind: Kind
        public let communicationID: UUID
        public let status: CommunicationStatus
    }

    /// Creates or brings up to date the entry of the call `sourceRef` (`source:call id`); nil when nothing changed.
    ///
    /// What the phone reports (times, outcome, duration, direction, caller, callee, handlers) is rewritten from
    /// `state`; what staff edit (title, description, related parties) is left alone, and a call a person (or
    /// auto-close) closed stays closed. One closed because the phone said missed follows the phone, so that a late
    /// event (the answer arriving after an outcome-less end) reopens it.
    public func apply(_ state: PhoneCallState, sourceRef: String) async throws -> Applied? {
        let computedStatus: CommunicationStatus = state.closesAtOnce ? .closed : .open
        let closedAt = state.closesAtOnce ? (state.endedAt ?? state.occurredAt) : nil
        let log = EntryLog(connection: connection, logger: logger)
        if let found = try await current(sourceRef: sourceRef) {
            let (existing, closedByStaff) = (found.entry, found.closedByStaff)
            let status: CommunicationStatus = closedByStaff ? .closed : computedStatus
            let participants = try await phoneParticipants(of: existing.id)
            var columns = existing
            columns.status = status
            columns.direction = state.direction
            columns.occurredAt = state.occurredAt
            columns.answeredAt = state.answeredAt
            columns.endedAt = state.endedAt
            columns.closedAt = closedByStaff ? existing.closedAt : closedAt
            columns.outcome = state.outcome
            columns.durationSeconds = state.durationSeconds
            columns.clientID = state.clientID
            columns.address = state.address
            columns.ambiguous = state.ambiguous
            guard columns != existing || participants != state.participants else { return nil }
            let before = try await log.snapshot(existing.id)
            try await connection.query("""
                UPDATE communications SET status = \(columns.status.rawValue), direction = \(columns.direction?.rawValue),
                    occurred_at = \(columns.occurredAt), answered_at = \(columns.answeredAt), ended_at = \(columns.endedAt),
                    closed_at = \(columns.closedAt), outcome = \(columns.outcome?.rawValue), duration_s = \(columns.durationSeconds),
                    client_id = \(columns.clientID), address = \(columns.address), ambiguous = \(columns.ambiguous),
                    version = version + 1, updated_at = now()
                WHERE organisation_id = commlog_current_organisation() AND id = \(existing.id)
                """, logger: logger)
            if participants != state.participants {
                try await replaceParticipants(of: existing.id, with: state.participants)
            } else if columns.occurredAt != existing.occurredAt {
                try await log.copyOccurredAtToParticipants(of: existing.id)
            }
            try await log.recordHistory(of: existing.id, action: .update, by: .system, before: before)
            return Applied(kind: .updated, communicationID: existing.id, status: status)
        }
        var id: UUID?
        for try await inserted in try await connection.query("""
            INSERT INTO communications (organisation_id, type, direction, status, occurred_at, answered_at, ended_at, closed_at, outcome,
                duration_s, client_id, address, source, source_ref, ambiguous)
            VALUES (commlog_current_organisation(), 'phone', \(state.direction.rawValue), \(computedStatus.rawValue), \(state.occurredAt),
                \(state.answeredAt), \(state.endedAt), \(closedAt), \(state.outcome?.rawValue), \(state.durationSeconds),
                \(state.clientID), \(state.address), 'phone', \(sourceRef), \(state.ambiguous))
            ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
            RETURNING id
            """, logger: logger).decode(UUID.self) {
            id = inserted
        }
        guard let id else {
            // Another transaction created it first (call-bridge's lock on the call makes this rare): apply on top of it.
            return try await apply(state, sourceRef: sourceRef)
        }
        try await replaceParticipants(of: id, with: state.participants)
        try await log.recordHistory(of: id, action: .create, by: .system, before: nil)
        return Applied(kind: .opened, communicationID: id, status: computedStatus)
    }

    /// The call's entry id, when it exists.
    public func communicationID(sourceRef: String) async throws -> UUID? {
        try await current(sourceRef: sourceRef)?.entry.id
    }

    /// The call as announced after a change that is not the phone's (its recording stored): status, client and
    /// the staff who handled it.
    public func announced(_ id: UUID) async throws -> (status: CommunicationStatus, clientID: String?, staffIDs: [String])? {
        for try await (status, clientID, staffIDs) in try await connection.query("""
            SELECT c.status::text, c.client_id,
                   array(SELECT p.ref_id FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id
                         AND p.kind = 'staff' AND p.role = 'handler' AND p.ref_id IS NOT NULL ORDER BY p.position)
            FROM communications c WHERE c.organisation_id = commlog_current_organisation() AND c.id = \(id)
            """, logger: logger).decode((String, String?, [String]).self) {
            return (CommunicationStatus(rawValue: status) ?? .open, clientID, staffIDs)
        }
        return nil
    }

    /// Closes the calls of the organisation still open that started before `cutoff`, as the system
    /// (`auto_close`); returns each closed call with its client and handling staff. Calls another transaction
    /// holds are left for the next round.
    public func closeStale(before cutoff: Date) async throws -> [(id: UUID, clientID: String?, staffIDs: [String])] {
        var closed: [(id: UUID, clientID: String?, staffIDs: [String])] = []
        let rows = try await connection.query("""
            WITH stale AS (
                SELECT c.id, commlog_entry_snapshot(c) AS before FROM communications c
                WHERE c.organisation_id = commlog_current_organisation() AND c.type = 'phone' AND c.status = 'open'
                  AND c.deleted_at IS NULL AND c.occurred_at < \(cutoff)
                FOR UPDATE SKIP LOCKED
            ), closed AS (
                UPDATE communications c SET status = 'closed', closed_at = now(), version = version + 1, updated_at = now()
                FROM stale WHERE c.organisation_id = commlog_current_organisation() AND c.id = stale.id AND c.status = 'open'
                RETURNING c.id, c.client_id, commlog_entry_snapshot(c.*) AS after, stale.before
            ), audited AS (
                INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
                SELECT commlog_current_organisation(), id, NULL, 'auto_close', before, after FROM closed
            )
            SELECT closed.id, closed.client_id,
                coalesce((SELECT array_agg(p.ref_id ORDER BY p.position) FROM participants p
                          WHERE p.organisation_id = commlog_current_organisation() AND p.communication_id = closed.id
                            AND p.kind = 'staff' AND p.ref_id IS NOT NULL), '{}')
            FROM closed
            """, logger: logger)
        for try await (id, client, staff) in rows.decode((UUID, String?, [String]).self) {
            closed.append((id, client, staff))
        }
        return closed
    }

    /// Makes a complete upload the call's recording; false when the same audio was already stored (the upload
    /// is then dropped). Chunks of any other upload of the call (replaced audio, failed or crashed attempts) go.
    public func storeRecording(url: String, contentType: String?, upload: RecordingUpload, communicationID: UUID) async throws -> Bool {
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
    public struct IncompleteUpload: Error, CustomStringConvertible {
        public let expected: Int
        public let found: Int
        public var description: String { "recording upload incomplete (\(found) of \(expected) chunks): another download of the call replaced it" }
    }

    // MARK: Rows

    /// The call's entry (its start as the phone gave it: `claimed_at` when later than the receipt), and whether a
    /// person (or auto-close) closed it; the row locked.
    private func current(sourceRef: String) async throws -> (entry: StoredEntry, closedByStaff: Bool)? {
        let rows = try await connection.query("""
            SELECT \(unescaped: StoredEntry.selectList),
                   c.status = 'closed' AND EXISTS (SELECT 1 FROM audit_history a WHERE a.organisation_id = c.organisation_id
                                                     AND a.communication_id = c.id AND a.action IN ('end_call', 'auto_close'))
            FROM communications c
            WHERE c.organisation_id = commlog_current_organisation() AND c.source = 'phone' AND c.source_ref = \(sourceRef)
            FOR UPDATE OF c
            """, logger: logger)
        for try await row in rows {
            let cells = row.makeRandomAccess()
            var entry = try StoredEntry(cells)
            entry.occurredAt = entry.claimedAt ?? entry.occurredAt
            return (entry, try cells[StoredEntry.columns.count].decode(Bool.self))
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

    private func replaceParticipants(of id: UUID, with participants: [Participant]) async throws {
        try await connection.query("""
            DELETE FROM participants
            WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) AND role IN ('caller', 'callee', 'handler')
            """, logger: logger)
        try await EntryLog(connection: connection, logger: logger).copyOccurredAtToParticipants(of: id)
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
