import CommlogDomain
import Foundation
import Logging
import LogStore
import PostgresNIO
import Storage

/// Entries as lists show them, with the visibility rules in every query: pages, one entry, open calls.
///
/// The rules: managers and admins see the whole organisation; other staff see the entries of the clients
/// they are related to (and of those clients' patients), and entries in which they are author, participant
/// or handler. Row-level security underneath keeps every query inside the caller's organisation.
///
/// Each read is one statement (`TenantRead`): from the pool, a page costs one round trip, not a transaction
/// of four; in a transaction it reads what the transaction sees.
struct EntryPages {
    /// Where the statements go.
    enum Source {
        /// A pooled connection, each read a statement of its own.
        case pool(PostgresClient)
        /// The connection of the caller's transaction.
        case transaction(PostgresConnection)
    }

    let source: Source
    let caller: Caller
    let logger: Logger

    /// A summary's columns: what the page selects and, in the same order, the name and exact type
    /// `TenantRead` states for each.
    static let columns: [(select: String, definition: String)] = StoredEntry.columns + [
        ("EXISTS (SELECT 1 FROM recordings r WHERE r.organisation_id = c.organisation_id AND r.communication_id = c.id)",
         "has_recording boolean"),
        ("(extract(epoch FROM c.occurred_at) * 1000000)::bigint", "occurred_at_us bigint"),
        // The names the directory gives the ids now (a rename shows at once); null for a record it does not know.
        (name(in: "clients", id: "c.client_id"), "client_name text"),
        (name(in: "patients", id: "c.patient_id"), "patient_name text"),
        (name(in: "locations", id: "c.location_id"), "location_name text"),
        (name(in: "staff", id: "c.author_staff_id"), "author_name text"),
        ("""
         coalesce((SELECT x.name FROM reasons x WHERE x.organisation_id = c.organisation_id AND x.code = c.reason),
                  (SELECT x.name FROM reasons x WHERE x.organisation_id IS NULL AND x.code = c.reason))
         """, "reason_label text"),
    ]

    /// The directory's name of the record `id` of `table`, of the entry's organisation.
    private static func name(in table: String, id: String, organisation: String = "c.organisation_id") -> String {
        "(SELECT nullif(x.name, '') FROM \(table) x WHERE x.organisation_id = \(organisation) AND x.id = \(id))"
    }

    /// The select list of a page (`FROM communications c`).
    static let selectList = columns.map { "\($0.select) AS \($0.definition.prefix { $0 != " " })" }.joined(separator: ", ")

    /// Each row of `summaries`: the page's columns, then its participant's (nulls for an entry without any).
    static let rowDefinition = (columns.map(\.definition) + [
        "participant_role text", "participant_kind text", "participant_ref_id text", "participant_address text", "participant_name text",
    ]).joined(separator: ", ")

    /// A page, newest first, and the cursor of the next one (nil on the last page).
    func list(_ filter: ListFilter) async throws -> (items: [EntrySummary], next: PageCursor?) {
        var items: [EntrySummary]
        if filter.isBoard, filter.text != nil {
            // The newest matches first (commlog_search_newest, migration 0023): a page needs about as many as it
            // shows, more when other conditions pass over some; a page left short by them asks for every match.
            items = try await page(filter, probe: (filter.limit + 1) * 2)
            if items.count <= filter.limit { items = try await page(filter, probe: nil) }
        } else {
            items = try await page(filter, probe: nil)
        }
        var next: PageCursor?
        if items.count > filter.limit {
            items.removeLast()
            next = items.last.map { PageCursor(occurredAtMicroseconds: $0.occurredAtMicroseconds, id: $0.id) }
        }
        return (items, next)
    }

    /// The entries of a page and one more (to tell whether another page follows).
    /// - Parameter probe: for a free-text search of the board, how many of the newest matches to consider; nil
    ///   for all of them.
    private func page(_ filter: ListFilter, probe: Int?) async throws -> [EntrySummary] {
        var read = TenantRead(organisationID: caller.organisationID)
        var conditions = ["c.organisation_id = \(read.bind(caller.organisationID))", "c.deleted_at IS NULL"]
        if let visibility = visibilityCondition(&read) { conditions.append(visibility) }
        if let client = filter.clientID { conditions.append("c.client_id = \(read.bind(client))") }
        if filter.unfiled { conditions.append("c.client_id IS NULL") }
        if let patient = filter.patientID { conditions.append("c.patient_id = \(read.bind(patient))") }
        if let staff = filter.staffID {
            let parameter = read.bind(staff)
            conditions.append("""
                (c.author_staff_id = \(parameter) OR EXISTS (SELECT 1 FROM participants p WHERE p.organisation_id = c.organisation_id
                 AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id = \(parameter)))
                """)
        }
        if let type = filter.type { conditions.append("c.type = \(read.bind(type.rawValue))") }
        if let direction = filter.direction { conditions.append("c.direction = \(read.bind(direction.rawValue))") }
        if let reason = filter.reason { conditions.append("c.reason = \(read.bind(reason))") }
        if let location = filter.locationID { conditions.append("c.location_id = \(read.bind(location))") }
        if let status = filter.status { conditions.append("c.status = \(read.bind(status.rawValue))") }
        if let from = filter.from { conditions.append("c.occurred_at >= \(read.bind(from))") }
        if let to = filter.to { conditions.append("c.occurred_at < \(read.bind(to))") }
        var matches: String?
        if let text = filter.text {
            let query = "websearch_to_tsquery('simple', \(read.bind(text)))"
            if filter.isBoard {
                // Organisation-wide, the matches come from the full-text indexes and are then sorted: walking the
                // board index newest first and testing every entry is what the planner would otherwise choose
                // (it cannot know how rare a word is), and that reads the whole log for a rare word. The indexes
                // are read through commlog_search_newest (migration 0023): under row-level security PostgreSQL
                // will not use them for the @@ operator, which is not leakproof.
                let before = filter.cursor.map { "(timestamptz 'epoch' + \(read.bind($0.occurredAtMicroseconds)) * interval '1 microsecond')" }
                    ?? "timestamptz 'infinity'"
                let newest = probe.map { "\(read.bind($0))::int" } ?? "NULL::int"
                matches = "matches AS MATERIALIZED (SELECT m FROM commlog_search_newest(\(query), \(before), \(newest)) AS m)"
                conditions.append("c.id IN (SELECT m FROM matches)")
            } else {
                conditions.append("c.search @@ \(query)")
            }
        }
        if let cursor = filter.cursor {
            // The cursor's time travels as whole microseconds: a Date would round through a Double.
            let time = "(timestamptz 'epoch' + \(read.bind(cursor.occurredAtMicroseconds)) * interval '1 microsecond')"
            conditions.append("(c.occurred_at, c.id) < (\(time), \(read.bind(cursor.id)))")
        }
        let page = """
            SELECT \(Self.selectList) FROM communications c
            WHERE \(conditions.joined(separator: "\n  AND "))
            ORDER BY c.occurred_at DESC, c.id DESC
            LIMIT \(read.bind(filter.limit + 1))
            """
        return try await summaries(&read, page: page, tables: matches)
    }

    /// One entry the caller may see, or nil (for a missing entry and an invisible one alike).
    func entry(_ id: UUID) async throws -> EntrySummary? {
        var read = TenantRead(organisationID: caller.organisationID)
        var conditions = ["c.organisation_id = \(read.bind(caller.organisationID))", "c.id = \(read.bind(id))", "c.deleted_at IS NULL"]
        if let visibility = visibilityCondition(&read) { conditions.append(visibility) }
        return try await summaries(&read, page: "SELECT \(Self.selectList) FROM communications c WHERE \(conditions.joined(separator: " AND "))").first
    }

    /// The caller's own open calls (handler, participant or author), newest first, whatever their role.
    func openCalls() async throws -> [EntrySummary] {
        var read = TenantRead(organisationID: caller.organisationID)
        let me = read.bind(caller.staffID)
        let page = """
            SELECT \(Self.selectList) FROM communications c
            WHERE c.organisation_id = \(read.bind(caller.organisationID)) AND c.status = 'open' AND c.type = 'phone' AND c.deleted_at IS NULL
              AND (c.author_staff_id = \(me) OR EXISTS (SELECT 1 FROM participants p WHERE p.organisation_id = c.organisation_id
                   AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id = \(me)))
            ORDER BY c.occurred_at DESC, c.id DESC
            LIMIT 200
            """
        return try await summaries(&read, page: page)
    }

    /// The visibility rule as SQL, or nil when the caller sees everything.
    private func visibilityCondition(_ read: inout TenantRead) -> String? {
        guard !caller.seesEverything else { return nil }
        let me = read.bind(caller.staffID)
        let organisation = read.bind(caller.organisationID)
        return """
            (c.client_id IN (SELECT r.client_id FROM related_staff r WHERE r.organisation_id = \(organisation) AND r.staff_id = \(me))
             OR c.patient_id IN (SELECT pt.id FROM patients pt JOIN related_staff r ON r.organisation_id = pt.organisation_id AND r.client_id = pt.client_id
                                 WHERE pt.organisation_id = \(organisation) AND r.staff_id = \(me))
             OR c.author_staff_id = \(me)
             OR EXISTS (SELECT 1 FROM participants p WHERE p.organisation_id = c.organisation_id AND p.communication_id = c.id
                        AND p.kind = 'staff' AND p.ref_id = \(me)))
            """
    }

    /// The entries `page` selects (its columns `selectList`, newest first), each with its participants.
    ///
    /// One statement: the page joined with its participants, one row per participant (or one for an entry
    /// without any), so that a page costs one round trip and one plan, not two.
    /// - Parameter tables: common table expressions `page` may use (`name AS (…)`).
    private func summaries(_ read: inout TenantRead, page: String, tables: String? = nil) async throws -> [EntrySummary] {
        let statement = """
            WITH \(tables.map { "\($0),\n" } ?? "")page AS (\(page))
            SELECT page.*, p.role, p.kind, p.ref_id, p.address,
                   coalesce(CASE p.kind WHEN 'staff' THEN \(Self.name(in: "staff", id: "p.ref_id", organisation: "p.organisation_id"))
                                        WHEN 'client' THEN \(Self.name(in: "clients", id: "p.ref_id", organisation: "p.organisation_id"))
                                        WHEN 'connection' THEN \(Self.name(in: "connections", id: "p.ref_id", organisation: "p.organisation_id")) END,
                            p.name)
            FROM page LEFT JOIN participants p ON p.organisation_id = \(read.bind(caller.organisationID)) AND p.communication_id = page.id
            ORDER BY page.occurred_at DESC, page.id DESC, p.position
            """
        let query = read.query(statement, columns: Self.rowDefinition)
        let rows = switch source {
        case .pool(let client): try await client.query(query, logger: logger)
        case .transaction(let connection): try await connection.query(query, logger: logger)
        }
        var items: [EntrySummary] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            let id = try c[0].decode(UUID.self)
            if items.last?.id != id {
                let base = StoredEntry.columns.count
                items.append(EntrySummary(
                    entry: try StoredEntry(c), hasRecording: try c[base].decode(Bool.self), occurredAtMicroseconds: try c[base + 1].decode(Int64.self),
                    names: EntryNames(client: try c[base + 2].decode(String?.self), patient: try c[base + 3].decode(String?.self),
                                      location: try c[base + 4].decode(String?.self), author: try c[base + 5].decode(String?.self),
                                      reason: try c[base + 6].decode(String?.self))
                ))
            }
            // No participant: the left join's nulls.
            let p = Self.columns.count
            guard let role = try c[p].decode(String?.self).flatMap(ParticipantRole.init(rawValue:)),
                  let kind = try c[p + 1].decode(String?.self).flatMap(ParticipantKind.init(rawValue:)) else { continue }
            items[items.count - 1].participants.append(Participant(
                role: role, kind: kind, id: try c[p + 2].decode(String?.self), address: try c[p + 3].decode(String?.self),
                name: try c[p + 4].decode(String?.self)
            ))
        }
        return items
    }
}
