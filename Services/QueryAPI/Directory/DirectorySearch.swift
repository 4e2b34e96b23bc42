import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// `GET /v1/directory/search`: one call of `commlog_directory_search` (migration 0018; one round trip, planned
/// once per connection), which finds records by name and address, joins what the caller may see of them, ranks
/// them and cuts the page.
///
/// Names are found in `directory_words`: a single typed word by the words of names; several by the names'
/// phrases, the words of a name from each one in turn ("olivia sm" and "smith ol" both find "Olivia Smith").
/// When the phrases find fewer than a page, the longest typed word's range is read too, up to a bound, and
/// every typed word must begin a word of the name. Addresses are range scans of `contact_points`.
struct DirectorySearch {
    let client: PostgresClient
    let caller: Caller
    let logger: Logger

    /// Rows read from one index range, per result asked for (and at least `minimumCandidates`): enough to rank
    /// a page, few enough to stay fast however common the prefix.
    static let candidatesPerResult = 2
    static let minimumCandidates = 20
    /// Rows of the longest word's range read when several words were typed and the phrases found too few.
    static let candidatesForWords = 400

    func search(_ query: DirectoryQuery, kinds: [DirectoryRecord.Kind], limit: Int) async throws -> [DirectoryRecord] {
        let ranges = query.addressRanges
        let perRange = max(limit * Self.candidatesPerResult, Self.minimumCandidates)
        let rows = try await client.query("""
            SELECT * FROM commlog_directory_search(
                \(caller.organisationID), \(kinds.map(\.rawValue)), \(query.phrase ?? ""), \(query.leadWord ?? ""),
                \(query.words.count > 1 ? Self.candidatesForWords : perRange)::integer, \(query.words),
                \(ranges.map(\.kind)), \(ranges.map(\.start)), \(caller.seesEverything), \(caller.staffID),
                \(query.text), \(limit)::integer, \(perRange)::integer)
            """, logger: logger)
        var records: [DirectoryRecord] = []
        for try await row in rows.decode((String, String, String, String?, String?, String?, [String]?, String?, [String], [String], Bool, String).self) {
            guard let kind = DirectoryRecord.Kind(rawValue: row.0), let matched = DirectoryRecord.Match(rawValue: row.11) else { continue }
            records.append(DirectoryRecord(
                kind: kind, id: row.1, name: row.2, clientID: row.3, clientName: row.4, relationship: row.5,
                roles: (row.6 ?? []).compactMap(StaffRole.init(rawValue:)), extension: row.7,
                emails: row.8, phones: row.9, mayContact: row.10, matched: matched
            ))
        }
        return records
    }
}
