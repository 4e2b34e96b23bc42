import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// The read side of the log, with the visibility rules in every query.
///
/// The rules: managers and admins see the whole organisation; other staff see the entries of the clients
/// they are related to (and of those clients' patients), and entries in which they are author, participant
/// or handler. Row-level security underneath keeps every query inside the caller's organisation.
struct EntryQueries {
    let connection: PostgresConnection
    let caller: Caller
    let logger: Logger

    static let summaryColumns = """
        c.id, c.type, c.direction, c.status, c.occurred_at, c.answered_at, c.ended_at, c.closed_at, c.outcome, c.duration_s,
        c.client_id, c.patient_id, c.location_id, c.author_staff_id, c.reason, c.address, c.subject, c.description, c.notes,
        c.source, c.show_in_patient_history,
        EXISTS (SELECT 1 FROM recordings r WHERE r.organisation_id = c.organisation_id AND r.communication_id = c.id) AS has_recording,
        c.version, (extract(epoch FROM c.occurred_at) * 1000000)::bigint AS occurred_at_us, c.template, c.reminder_type, c.reminder_count, c.ambiguous
        """

    /// A page, newest first, and the cursor of the next one (nil on the last page).
    func list(_ filter: ListFilter) async throws -> (items: [EntrySummary], next: PageCursor?) {
        var sql = SQLBuilder()
        var conditions = ["c.organisation_id = \(sql.bind(caller.organisationID))", "c.deleted_at IS NULL"]
        if let visibility = visibilityCondition(&sql) { conditions.append(visibility) }
        if let client = filter.clientID { conditions.append("c.client_id = \(sql.bind(client))") }
        if let patient = filter.patientID { conditions.append("c.patient_id = \(sql.bind(patient))") }
        if let staff = filter.staffID {
            let parameter = sql.bind(staff)
            conditions.append("""
                (c.author_staff_id = \(parameter) OR EXISTS (SELECT 1 FROM participants p WHERE p.organisation_id = c.organisation_id
                 AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id = \(parameter)))
                """)
        }
        if let type = filter.type { conditions.append("c.type = \(sql.bind(type.rawValue))") }
        if let direction = filter.direction { conditions.append("c.direction = \(sql.bind(direction.rawValue))") }
        if let reason = filter.reason { conditions.append("c.reason = \(sql.bind(reason))") }
        if let location = filter.locationID { conditions.append("c.location_id = \(sql.bind(location))") }
        if let status = filter.status { conditions.append("c.status = \(sql.bind(status.rawValue))") }
        if let from = filter.from { conditions.append("c.occurred_at >= \(sql.bind(from))") }
        if let to = filter.to { conditions.append("c.occurred_at < \(sql.bind(to))") }
        var matches: String?
        if let text = filter.text {
            let query = "websearch_to_tsquery('simple', \(sql.bind(text)))"
            if filter.isBoard {
                // Organisation-wide, the matches come from the full-text index and are then sorted: walking the
                // board index newest first and testing every entry is what the planner would otherwise choose
                // (it cannot know how rare a word is), and that reads the whole log for a rare word. The index is
                // read through commlog_search_matches (migration 0006): under row-level security PostgreSQL
                // will not use it for the @@ operator, which is not leakproof.
                matches = "matches AS MATERIALIZED (SELECT m FROM commlog_search_matches(\(query)) AS m)"
                conditions.append("c.id IN (SELECT m FROM matches)")
            } else {
                conditions.append("c.search @@ \(query)")
            }
        }
        if let cursor = filter.cursor {
            // The cursor's time travels as whole microseconds: a Date would round through a Double.
            let time = "(timestamptz 'epoch' + \(sql.bind(cursor.occurredAtMicroseconds)) * interval '1 microsecond')"
            conditions.append("(c.occurred_at, c.id) < (\(time), \(sql.bind(cursor.id)))")
        }
        let page = """
            SELECT \(Self.summaryColumns) FROM communications c
            WHERE \(conditions.joined(separator: "\n  AND "))
            ORDER BY c.occurred_at DESC, c.id DESC
            LIMIT \(sql.bind(filter.limit + 1))
            """
        var items = try await summaries(&sql, page: page, tables: matches)
        var next: PageCursor?
        if items.count > filter.limit {
            items.removeLast()
            next = items.last.map { PageCursor(occurredAtMicroseconds: $0.occurredAtMicroseconds, id: $0.id) }
        }
        return (items, next)
    }

    /// One entry the caller may see, or nil (for a missing entry and an invisible one alike).
    func entry(_ id: UUID) async throws -> EntrySummary? {
        var sql = SQLBuilder()
        var conditions = ["c.organisation_id = \(sql.bind(caller.organisationID))", "c.id = \(sql.bind(id))", "c.deleted_at IS NULL"]
        if let visibility = visibilityCondition(&sql) { conditions.append(visibility) }
        return try await summaries(&sql, page: "SELECT \(Self.summaryColumns) FROM communications c WHERE \(conditions.joined(separator: " AND "))").first
    }

    /// The visibility rule as SQL, or nil when the caller sees everything.
    private func visibilityCondition(_ sql: inout SQLBuilder) -> String? {
        guard !caller.seesEverything else { return nil }
        let me = sql.bind(caller.staffID)
        let organisation = sql.bind(caller.organisationID)
        return """
            (c.client_id IN (SELECT r.client_id FROM related_staff r WHERE r.organisation_id = \(organisation) AND r.staff_id = \(me))
             OR c.patient_id IN (SELECT pt.id FROM patients pt JOIN related_staff r ON r.organisation_id = pt.organisation_id AND r.client_id = pt.client_id
                                 WHERE pt.organisation_id = \(organisation) AND r.staff_id = \(me))
             OR c.author_staff_id = \(me)
             OR EXISTS (SELECT 1 FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id
                        AND p.kind = 'staff' AND p.ref_id = \(me)))
            """
    }

    /// The entries `page` selects (its columns `summaryColumns`, newest first), each with its participants.
    ///
    /// One statement: the page joined with its participants, one row per participant (or one for an entry
    /// without any), so that a page costs one round trip and one plan, not two.
    /// - Parameter tables: common table expressions `page` may use (`name AS (…)`).
    func summaries(_ sql: inout SQLBuilder, page: String, tables: String? = nil) async throws -> [EntrySummary] {
        let query = """
            WITH \(tables.map { "\($0),\n" } ?? "")page AS (\(page))
            SELECT page.*, p.role, p.kind, p.ref_id, p.address, p.name
            FROM page LEFT JOIN participants p ON p.organisation_id = \(sql.bind(caller.organisationID)) AND p.communication_id = page.id
            ORDER BY page.occurred_at DESC, page.id DESC, p.position
            """
        var items: [EntrySummary] = []
        for try await row in try await connection.query(sql.query(query), logger: logger) {
            let c = row.makeRandomAccess()
            let id = try c[0].decode(UUID.self)
            if items.last?.id != id {
                items.append(EntrySummary(
                    id: id, type: try c[1].decode(String.self), direction: try c[2].decode(String?.self),
                    status: try c[3].decode(String.self), occurredAt: try c[4].decode(Date.self), answeredAt: try c[5].decode(Date?.self),
                    endedAt: try c[6].decode(Date?.self), closedAt: try c[7].decode(Date?.self), outcome: try c[8].decode(String?.self),
                    durationSeconds: try c[9].decode(Int?.self), clientID: try c[10].decode(String?.self), patientID: try c[11].decode(String?.self),
                    locationID: try c[12].decode(String?.self), authorStaffID: try c[13].decode(String?.self), reason: try c[14].decode(String?.self),
                    address: try c[15].decode(String?.self), subject: try c[16].decode(String?.self), description: try c[17].decode(String?.self),
                    notes: try c[18].decode(String?.self), source: try c[19].decode(String.self), showInPatientHistory: try c[20].decode(Bool.self),
                    hasRecording: try c[21].decode(Bool.self), version: try c[22].decode(Int.self),
                    occurredAtMicroseconds: try c[23].decode(Int64.self), template: try c[24].decode(String?.self),
                    reminderType: try c[25].decode(String?.self), reminderCount: try c[26].decode(Int?.self), ambiguous: try c[27].decode(Bool.self)
                ))
            }
            // No participant: the left join's nulls.
            guard let role = try c[28].decode(String?.self).flatMap(ParticipantRole.init(rawValue:)),
                  let kind = try c[29].decode(String?.self).flatMap(ParticipantKind.init(rawValue:)) else { continue }
            items[items.count - 1].participants.append(Participant(
                role: role, kind: kind, id: try c[30].decode(String?.self), address: try c[31].decode(String?.self), name: try c[32].decode(String?.self)
            ))
        }
        return items
    }
}

/// Builds a query with numbered parameters as conditions are added.
struct SQLBuilder {
    private var bindings = PostgresBindings()
    private var count = 0

    /// Adds a parameter and returns its placeholder (`$3`).
    mutating func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
        bindings.append(value)
        count += 1
        return "$\(count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}
