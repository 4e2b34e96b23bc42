import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// Look-ups in the organisation's directory inside a tenant transaction: search by name, email or phone, one
/// client or patient, the lists of locations and staff.
///
/// Names are for every staff member of the organisation; contact details (emails, phones) only for those who may
/// see them (`mayContact`): managers and admins, the related staff of a client (for the client and its
/// connections), and a staff member for themselves.
struct DirectoryLookup {
    let connection: PostgresConnection
    let caller: Caller
    let logger: Logger

    /// Name candidates read per look-up, as a multiple of the limit: enough to rank, few enough to stay fast.
    static let candidatesPerResult = 5

    /// The records that match `query`, best first: address matches, then names that begin with what was typed,
    /// then the other names, each group by name.
    func search(_ query: DirectoryQuery, typed: String, kinds: [DirectoryRecord.Kind], limit: Int) async throws -> [DirectoryRecord] {
        let kindNames = kinds.map(\.rawValue)
        let candidates = max(limit * Self.candidatesPerResult, 50)
        var hits: [DirectoryRecord.Key: DirectoryRecord.Match] = [:]
        for key in try await addressMatches(query, kinds: kindNames, candidates: candidates) where hits[key.key] == nil {
            hits[key.key] = key.matched
        }
        let named = try await nameMatches(query.words, kinds: kindNames, candidates: candidates)
        for key in named where hits[key] == nil { hits[key] = .name }
        let nameKeys = Set(named)

        let typedName = typed.trimmingWhitespace().lowercased()
        var found: [(group: Int, record: DirectoryRecord)] = []
        for var record in try await records(Array(hits.keys)) {
            guard var matched = hits[record.key] else { continue }
            // An address only finds a record for those who may see its addresses (extensions are for all).
            if matched == .email || matched == .phone, !record.mayContact {
                guard nameKeys.contains(record.key) else { continue }
                matched = .name
            }
            record.matched = matched
            let group = matched != .name ? 0 : record.name.lowercased().hasPrefix(typedName) ? 1 : 2
            found.append((group, record))
        }
        found.sort { a, b in
            if a.group != b.group { return a.group < b.group }
            let order = a.record.name.localizedCaseInsensitiveCompare(b.record.name)
            if order != .orderedSame { return order == .orderedAscending }
            return (a.record.kind.rawValue, a.record.id) < (b.record.kind.rawValue, b.record.id)
        }
        return found.prefix(limit).map(\.record)
    }

    /// Records one of whose name words begins with the longest query word, and every other query word begins
    /// another: the longest word narrows the index range scan most.
    private func nameMatches(_ words: [String], kinds: [String], candidates: Int) async throws -> [DirectoryRecord.Key] {
        guard let lead = words.max(by: { ($0.count, $1) < ($1.count, $0) }) else { return [] }
        let others = words.filter { $0 != lead }
        var keys: [DirectoryRecord.Key] = []
        let rows = try await connection.query("""
            SELECT d.kind, d.id FROM directory_words d
            WHERE d.organisation_id = commlog_current_organisation() AND d.word >= \(lead) AND d.word < \(Self.rangeEnd(lead))
              AND d.kind = ANY(\(kinds)::text[])
              AND NOT EXISTS (SELECT 1 FROM unnest(\(others)::text[]) AS o(word) WHERE NOT EXISTS (
                  SELECT 1 FROM directory_words e
                  WHERE e.organisation_id = d.organisation_id AND e.kind = d.kind AND e.id = d.id
                    AND e.word >= (o.word COLLATE "C") AND e.word < (o.word || \(Self.top) COLLATE "C")))
            ORDER BY d.word, d.kind, d.id
            LIMIT \(candidates)
            """, logger: logger)
        for try await (kind, id) in rows.decode((String, String).self) {
            guard let kind = DirectoryRecord.Kind(rawValue: kind) else { continue }
            let key = DirectoryRecord.Key(kind: kind, id: id)
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    /// Records with an email address, phone number or extension that begins with what was typed.
    private func addressMatches(_ query: DirectoryQuery, kinds: [String], candidates: Int) async throws -> [(key: DirectoryRecord.Key, matched: DirectoryRecord.Match)] {
        var ranges: [(kind: String, low: String)] = []
        if let email = query.emailPrefix { ranges.append(("email", email)) }
        ranges += query.phonePrefixes.map { ("phone", $0) }
        if let digits = query.extensionPrefix { ranges.append(("extension", digits)) }
        guard !ranges.isEmpty else { return [] }
        var matches: [(key: DirectoryRecord.Key, matched: DirectoryRecord.Match)] = []
        let rows = try await connection.query("""
            SELECT c.owner_kind, c.owner_id, c.kind
            FROM unnest(\(ranges.map(\.kind))::text[], \(ranges.map(\.low))::text[], \(ranges.map { Self.rangeEnd($0.low) })::text[]) AS r(kind, low, high)
            CROSS JOIN LATERAL (
                SELECT p.owner_kind, p.owner_id, p.kind FROM contact_points p
                WHERE p.organisation_id = commlog_current_organisation() AND p.kind = r.kind
                  AND p.value ~>=~ r.low AND p.value ~<~ r.high AND p.owner_kind = ANY(\(kinds)::text[])
                ORDER BY p.value
                LIMIT \(candidates)) AS c
            """, logger: logger)
        for try await (owner, id, kind) in rows.decode((String, String, String).self) {
            guard let owner = DirectoryRecord.Kind(rawValue: owner) else { continue }
            matches.append((DirectoryRecord.Key(kind: owner, id: id), DirectoryRecord.Match(rawValue: kind) ?? .phone))
        }
        return matches
    }

    /// The records of `keys` that are not deleted, with what the caller may see of them.
    private func records(_ keys: [DirectoryRecord.Key]) async throws -> [DirectoryRecord] {
        guard !keys.isEmpty else { return [] }
        func ids(_ kind: DirectoryRecord.Kind) -> [String] { keys.filter { $0.kind == kind }.map(\.id) }
        let everything = caller.seesEverything
        var records: [DirectoryRecord] = []
        let rows = try await connection.query("""
            SELECT 'client', c.id, c.name, NULL::text, NULL::text, NULL::text, NULL::text[], NULL::text, c.emails, c.phones,
                   \(everything) OR EXISTS (SELECT 1 FROM related_staff r
                       WHERE r.organisation_id = c.organisation_id AND r.client_id = c.id AND r.staff_id = \(caller.staffID))
            FROM clients c
            WHERE c.organisation_id = commlog_current_organisation() AND c.id = ANY(\(ids(.client))::text[]) AND c.deleted_at IS NULL
            UNION ALL
            SELECT 'patient', p.id, p.name, p.client_id, o.name, NULL, NULL, NULL, '{}', '{}', false
            FROM patients p LEFT JOIN clients o ON o.organisation_id = p.organisation_id AND o.id = p.client_id
            WHERE p.organisation_id = commlog_current_organisation() AND p.id = ANY(\(ids(.patient))::text[]) AND p.deleted_at IS NULL
            UNION ALL
            SELECT 'connection', n.id, n.name, n.client_id, o.name, n.relationship, NULL, NULL, n.emails, n.phones,
                   \(everything) OR EXISTS (SELECT 1 FROM related_staff r
                       WHERE r.organisation_id = n.organisation_id AND r.client_id = n.client_id AND r.staff_id = \(caller.staffID))
            FROM connections n LEFT JOIN clients o ON o.organisation_id = n.organisation_id AND o.id = n.client_id
            WHERE n.organisation_id = commlog_current_organisation() AND n.id = ANY(\(ids(.connection))::text[]) AND n.deleted_at IS NULL
            UNION ALL
            SELECT 'staff', s.id, s.name, NULL, NULL, NULL, s.roles, s.extension,
                   CASE WHEN s.email IS NULL THEN '{}' ELSE ARRAY[s.email] END, s.phones, \(everything) OR s.id = \(caller.staffID)
            FROM staff s
            WHERE s.organisation_id = commlog_current_organisation() AND s.id = ANY(\(ids(.staff))::text[]) AND s.deleted_at IS NULL
            """, logger: logger)
        for try await row in rows.decode((String, String, String, String?, String?, String?, [String]?, String?, [String], [String], Bool).self) {
            guard let kind = DirectoryRecord.Kind(rawValue: row.0) else { continue }
            records.append(DirectoryRecord(
                kind: kind, id: row.1, name: row.2, clientID: row.3, clientName: row.4, relationship: row.5,
                roles: (row.6 ?? []).compactMap(StaffRole.init(rawValue:)), extension: row.7,
                emails: row.8, phones: row.9, mayContact: row.10
            ))
        }
        return records
    }

    /// The end of the range of strings that begin with `prefix` (bytewise, as the "C" collation and
    /// `text_pattern_ops` compare): no character sorts after U+10FFFF.
    static func rangeEnd(_ prefix: String) -> String { prefix + top }
    static let top = "\u{10FFFF}"
}
