import CommlogDomain
import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Who sees what, through the real query-api: the permission matrix for list and read.
@Suite("query-api: visibility")
struct VisibilityTests {
    @Test("related staff, participants, authors, managers, admins and other organisations each see exactly their share")
    func permissionMatrix() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO related_staff (organisation_id, client_id, staff_id) VALUES (\(org), 'c-1', 's-rel')", logger: database.logger)
                try await connection.query("INSERT INTO patients (organisation_id, id, client_id, name) VALUES (\(org), 'p-1', 'c-1', 'Bella')", logger: database.logger)
            }
            let now = Date()
            let ids = try await api.insert([
                api.entry("e1", client: "c-1", at: now.addingTimeInterval(-40), content: "for the care team"),
                api.entry("e1p", client: "c-x", patient: "p-1", at: now.addingTimeInterval(-30)),
                api.entry("e2", client: "c-2", at: now.addingTimeInterval(-20), participants: [Participant(role: .handler, kind: .staff, id: "s-part")]),
                api.entry("e3", client: "c-3", author: "s-auth", at: now.addingTimeInterval(-10), content: "written by s-auth"),
            ], database: database)
            let all = ["e3", "e2", "e1p", "e1"].map { ids[$0]! }

            let related = try await api.token("s-rel", [.staff])
            let participant = try await api.token("s-part", [.staff])
            let author = try await api.token("s-auth", [.staff])
            let stranger = try await api.token("s-none", [.staff])
            let manager = try await api.token("m-1", [.manager])
            let admin = try await api.token("a-1", [.admin])
            let otherOrganisation = try await api.token("m-1", [.manager], organisation: TestEnvironment.unique("org-other"))

            // Lists by client and by patient.
            #expect(try await api.get("/v1/communications", token: related, query: ["client_id": "c-1"]).ids == [ids["e1"]!])
            #expect(try await api.get("/v1/communications", token: related, query: ["patient_id": "p-1"]).ids == [ids["e1p"]!])
            #expect(try await api.get("/v1/communications", token: stranger, query: ["client_id": "c-1"]).ids.isEmpty)
            #expect(try await api.get("/v1/communications", token: participant, query: ["client_id": "c-2"]).ids == [ids["e2"]!])
            #expect(try await api.get("/v1/communications", token: author, query: ["client_id": "c-3"]).ids == [ids["e3"]!])
            #expect(try await api.get("/v1/communications", token: manager, query: ["client_id": "c-1"]).ids == [ids["e1"]!])
            #expect(try await api.get("/v1/communications", token: otherOrganisation, query: ["client_id": "c-1"]).ids.isEmpty)
            // A staff member's own entries.
            #expect(try await api.get("/v1/communications", token: manager, query: ["staff_id": "s-part"]).ids == [ids["e2"]!])
            #expect(try await api.get("/v1/communications", token: stranger, query: ["staff_id": "s-part"]).ids.isEmpty)

            // The board.
            #expect(try await api.get("/v1/communications", token: manager).ids == all)
            #expect(try await api.get("/v1/communications", token: admin).ids == all)
            let refused = try await api.get("/v1/communications", token: related)
            #expect(refused.status == 403)
            #expect(refused.headers["content-type"] == "application/problem+json")
            #expect(try await api.get("/v1/communications", token: otherOrganisation).ids.isEmpty)

            // Reading by id: a 404 for what one may not see, as for what does not exist.
            for (token, ref, status) in [
                (related, "e1", 200), (related, "e1p", 200), (related, "e2", 404), (participant, "e2", 200), (author, "e3", 200),
                (stranger, "e1", 404), (stranger, "e3", 404), (manager, "e2", 200), (admin, "e1", 200), (otherOrganisation, "e1", 404),
            ] {
                let reply = try await api.get("/v1/communications/\(ids[ref]!)", token: token)
                #expect(reply.status == status, "\(ref): \(reply.status) \(reply.detail)")
            }
            #expect(try await api.get("/v1/communications/\(UUID().uuidString)", token: manager).status == 404)
            await api.stop()
        }
    }

    @Test("an entry by id carries its content, participants and an ETag, and reading the content is audited")
    func readByIDAudited() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let ids = try await api.insert([
                api.entry("e", client: "c-1", author: "s-1", type: .email,
                          participants: [Participant(role: .to, kind: .client, id: "c-1", address: "ann@example.org")],
                          subject: "Lab results", content: "Dear Ann, the results are fine."),
            ], database: database)
            let reply = try await api.get("/v1/communications/\(ids["e"]!)", token: try await api.token("s-1", [.staff]))
            #expect(reply.status == 200)
            #expect(reply.headers["etag"] == "\"1\"")
            let json = reply.json
            #expect(json["content"] as? String == "Dear Ann, the results are fine.")
            #expect(json["subject"] as? String == "Lab results")
            #expect(json["direction"] as? String == "outbound")
            #expect(json["recording"] is NSNull)
            #expect(json["outcome"] is NSNull, "fields that do not apply are present as null")
            #expect((json["participants"] as? [[String: Any]])?.first?["id"] as? String == "c-1")
            let audited = try await database.withTenant(api.organisationID) { connection in
                var rows: [String] = []
                for try await (staff, what) in try await connection.query(
                    "SELECT staff_id, what FROM read_audit WHERE communication_id = \(UUID(uuidString: ids["e"]!)!)", logger: database.logger
                ).decode((String, String).self) { rows.append("\(staff):\(what)") }
                return rows
            }
            #expect(audited == ["s-1:content"])
            await api.stop()
        }
    }
}
