import CommlogDomain
import Foundation
import Testing
import TestSupport

/// query-api on the stack's streaming replica (`stack.sh up --replica`), its replay paused so that the replica is
/// behind on purpose: other staff read the replica, the writer reads their own change at once.
@Suite("query-api: read replica", .serialized)
struct ReadReplicaTests {
    @Test("lists go to the replica; the writer sees their change at once, in this process and in another given its position (header or cookie)")
    func readYourOwnWrites() async throws {
        let readURL = try TestEnvironment.variable("COMMLOG_TEST_DATABASE_READ_URL")
        let api = try await QueryAPIHarness(environment: ["COMMLOG_DATABASE_READ_URL": readURL])
        let other = try await QueryAPIHarness(environment: ["COMMLOG_DATABASE_READ_URL": readURL])
        let organisation = api.organisationID
        let writer = try await api.token("s-writer", [.staff])
        let manager = try await api.token("s-manager", [.manager])
        let board = "/v1/communications"

        // Something committed and replayed before the pause, so that the organisation's board reads from both.
        let before = try await api.send("POST", board, token: writer, json: ["type": "note", "client_id": "c-1", "subject": "before"])
        #expect(before.status == 201, "\(before.detail)")
        let beforeID = try #require(before.json["id"] as? String)
        #expect(await eventually { (try? await api.get(board, token: manager).ids.contains(beforeID)) == true })

        try await TestEnvironment.stack("replica-pause")
        do {
            let created = try await api.send("POST", board, token: writer, json: ["type": "note", "client_id": "c-1", "subject": "after"])
            #expect(created.status == 201, "\(created.detail)")
            let id = try #require(created.json["id"] as? String)
            let position = try #require(created.headers["commlog-position"])
            #expect(created.headers["set-cookie"]?.contains("commlog_written=\(position)") == true)

            // The writer: at once, from this process (it remembers their write).
            #expect(try await api.get(board, token: writer, query: ["client_id": "c-1"]).ids.contains(id))
            // Everyone else reads the replica, which has not replayed the write: proof that reads go there.
            let managersView = try await api.get(board, token: manager)
            #expect(managersView.status == 200)
            #expect(managersView.ids.contains(beforeID) && !managersView.ids.contains(id))

            // Another query-api process knows nothing of the write, unless the client says where it was.
            let otherWriter = try await other.token("s-writer", [.staff], organisation: organisation)
            #expect(try await other.get(board, token: otherWriter, query: ["client_id": "c-1"]).ids == [beforeID])
            let byHeader = try await other.send("GET", "\(board)?client_id=c-1", token: otherWriter, headers: ["Commlog-Read-After": position])
            #expect(byHeader.ids.contains(id))
            let byCookie = try await other.send("GET", "\(board)?client_id=c-1", token: otherWriter, headers: ["Cookie": "commlog_written=\(position)"])
            #expect(byCookie.ids.contains(id))
            // A position that is not one is ignored.
            let garbage = try await other.send("GET", "\(board)?client_id=c-1", token: otherWriter, headers: ["Commlog-Read-After": "not/a-position"])
            #expect(garbage.status == 200 && garbage.ids == [beforeID])
        } catch {
            try await TestEnvironment.stack("replica-resume")
            throw error
        }
        try await TestEnvironment.stack("replica-resume")
        // Once the replica replays, the others see the change too.
        #expect(await eventually { (try? await api.get(board, token: manager).ids.count) == 2 })
        await api.stop()
        await other.stop()
    }
}
