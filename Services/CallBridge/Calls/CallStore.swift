import CommlogDomain
import Foundation
import LogStore
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

/// The database side of a call: its events (`call_events`), and its entry through the log's owner (`PhoneCallLog`).
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

    /// Brings the call's entry up to date with `facts` and `parties` (through the log's owner); nil when nothing changed.
    func apply(_ facts: CallFacts, parties: CallParties, source: String, callID: String) async throws -> CallChange? {
        let state = PhoneCallState(
            direction: facts.direction, occurredAt: facts.occurredAt, answeredAt: facts.answeredAt, endedAt: facts.endedAt,
            outcome: facts.outcome, durationSeconds: facts.durationSeconds, closesAtOnce: facts.closesAtOnce,
            clientID: parties.clientID, address: parties.address, ambiguous: parties.ambiguous, participants: parties.participants
        )
        guard let applied = try await log.apply(state, sourceRef: "\(source):\(callID)") else { return nil }
        return CallChange(kind: applied.kind == .opened ? .opened : .updated, organisationID: "", communicationID: applied.communicationID,
                          status: applied.status, clientID: parties.clientID, staffIDs: parties.staffIDs)
    }

    private var log: PhoneCallLog { PhoneCallLog(connection: connection, logger: logger) }
}
