import CommlogDomain
import Foundation
import Testing
import TestSupport

/// query-api behind PgBouncer in transaction mode (`stack.sh up --pgbouncer`): every request's transaction may
/// run on another server connection, so nothing may lean on the session (the tenant, locks, prepared statements).
@Suite("query-api: through PgBouncer")
struct PgBouncerQueryTests {
    @Test("notes are created, edited, listed page by page, searched and their history read through PgBouncer, by many requests at once")
    func keyPaths() async throws {
        let api = try await QueryAPIHarness(environment: ["COMMLOG_DATABASE_URL": try TestEnvironment.variable("COMMLOG_TEST_PGBOUNCER_URL")])
        let author = try await api.token("s-author", [.staff])
        let manager = try await api.token("s-manager", [.manager])
        // Twenty notes at once: twenty transactions over PgBouncer's server connections.
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let created = try await api.send("POST", "/v1/communications", token: author, json: [
                        "type": "note", "client_id": "c-\(index % 2)", "subject": "Pooled \(index)", "notes": "through the pooler",
                    ])
                    return created.status == 201 ? created.json["id"] as? String : nil
                }
            }
            return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(ids.count == 20)
        let first = try #require(ids.first)
        let edited = try await api.send("PATCH", "/v1/communications/\(first)", token: author, json: ["notes": "edited"], headers: ["If-Match": "\"1\""])
        #expect(edited.status == 200, "\(edited.detail)")
        #expect(try await api.get("/v1/communications/\(first)/history", token: author).items.count == 2)

        // The board, ten at a time, to the end of its cursor.
        var seen: [String] = []
        var query = ["limit": "10"]
        while true {
            let page = try await api.get("/v1/communications", token: manager, query: query)
            #expect(page.status == 200, "\(page.detail)")
            seen += page.ids
            guard let cursor = page.nextCursor else { break }
            query["cursor"] = cursor
        }
        #expect(Set(seen) == Set(ids))
        #expect(try await api.get("/v1/communications", token: manager, query: ["q": "Pooled"]).ids.count == 20)
        // Another organisation sees none of it, over the same server connections.
        let stranger = try await api.token("s-x", [.manager], organisation: TestEnvironment.unique("org-other"))
        #expect(try await api.get("/v1/communications", token: stranger).ids.isEmpty)
        await api.stop()
    }
}
