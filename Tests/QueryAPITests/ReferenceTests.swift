import CommlogDomain
import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Reasons and the read audit through the real query-api.
@Suite("query-api: reasons and reads")
struct ReferenceTests {
    @Test("reasons: the standard ones for everybody; admins add, rename and deactivate the organisation's own, never a standard one; labels show in lists")
    func reasons() async throws {
        let api = try await QueryAPIHarness()
        let admin = try await api.token("a-1", [.admin])
        let staff = try await api.token("s-1", [.staff])

        let standard = try await api.get("/v1/reasons", token: staff)
        #expect(standard.status == 200)
        let codes = Set(standard.items.filter { $0["system"] as? Bool == true }.compactMap { $0["code"] as? String })
        #expect(codes.isSuperset(of: ["AD_HOC_EMAIL", "AD_HOC_SMS", "PATIENT_REMINDER", "APPOINTMENT_REMINDER", "FORWARDED_DOCUMENT"]))

        #expect(try await api.send("POST", "/v1/reasons", token: staff, json: ["code": "SURGERY_FOLLOW_UP", "label": "Surgery follow-up"]).status == 403)
        let created = try await api.send("POST", "/v1/reasons", token: admin, json: ["code": "SURGERY_FOLLOW_UP", "label": "Surgery follow-up"])
        #expect(created.status == 201, "\(created.detail)")
        #expect(created.json["system"] as? Bool == false && created.json["active"] as? Bool == true)
        for (body, status) in [
            (["code": "SURGERY_FOLLOW_UP", "label": "again"], 409), (["code": "AD_HOC_SMS", "label": "mine"], 409),
            (["code": "lower case", "label": "x"], 400), (["code": "OK", "label": "   "], 400),
        ] {
            let reply = try await api.send("POST", "/v1/reasons", token: admin, json: body)
            #expect(reply.status == status, "\(body): \(reply.detail)")
            #expect(reply.headers["content-type"] == "application/problem+json")
        }

        // A note with the new reason shows its label; a rename shows in the list at once.
        let note = try await api.send("POST", "/v1/communications", token: staff, json: ["type": "note", "client_id": "c-r", "reason": "SURGERY_FOLLOW_UP"])
        #expect(note.status == 201, "\(note.detail)")
        #expect(note.json["reason_label"] as? String == "Surgery follow-up")
        let renamed = try await api.send("PATCH", "/v1/reasons/SURGERY_FOLLOW_UP", token: admin, json: ["label": "Post-op check"])
        #expect(renamed.status == 200, "\(renamed.detail)")
        #expect(renamed.json["label"] as? String == "Post-op check")
        let list = try await api.get("/v1/communications", token: try await api.token("m-1", [.manager]), query: ["client_id": "c-r"])
        #expect(list.items.first?["reason_label"] as? String == "Post-op check")

        // Deactivated: listed as inactive, refused for new entries; a standard reason and an unknown code do not change.
        let off = try await api.send("PATCH", "/v1/reasons/SURGERY_FOLLOW_UP", token: admin, json: ["active": false])
        #expect(off.json["active"] as? Bool == false)
        #expect(try await api.get("/v1/reasons", token: staff).items.contains { $0["code"] as? String == "SURGERY_FOLLOW_UP" && $0["active"] as? Bool == false })
        #expect(try await api.send("POST", "/v1/communications", token: staff, json: ["type": "note", "client_id": "c-r", "reason": "SURGERY_FOLLOW_UP"]).status == 422)
        #expect(try await api.send("PATCH", "/v1/reasons/AD_HOC_SMS", token: admin, json: ["label": "x"]).status == 409)
        #expect(try await api.send("PATCH", "/v1/reasons/NOPE", token: admin, json: ["label": "x"]).status == 404)
        #expect(try await api.send("PATCH", "/v1/reasons/SURGERY_FOLLOW_UP", token: staff, json: ["active": true]).status == 403)

        // Another organisation neither sees nor uses it.
        let elsewhere = TestEnvironment.unique("org-other")
        let foreign = try await api.token("s-9", [.staff], organisation: elsewhere)
        #expect(try await api.get("/v1/reasons", token: foreign).items.allSatisfy { $0["code"] as? String != "SURGERY_FOLLOW_UP" })
        let reply = try await api.send("POST", "/v1/communications", token: foreign, json: ["type": "note", "client_id": "c-r", "reason": "SURGERY_FOLLOW_UP"])
        #expect(reply.status == 422)
        await api.stop()
    }

    @Test("reads: managers see who opened an entry's content, attachment and recording, and when; other staff get 403")
    func reads() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO staff (organisation_id, id, name) VALUES (\(org), 's-1', 'Dr Lee')", logger: database.logger)
            }
            let email = NewCommunication(
                organisationID: org, type: .email, direction: .inbound, occurredAt: Date(), clientID: "c-1", authorStaffID: "s-1",
                reason: .adHocEmail, subject: "results", content: "Dear Dr Lee", source: .practice, sourceRef: "read-me",
                attachments: [NewAttachment(name: "a.pdf", contentType: "application/pdf", size: 3, content: [1, 2, 3])]
            )
            let id = try #require(try await api.insert([email], database: database)["read-me"])
            let author = try await api.token("s-1", [.staff])
            let entry = try await api.get("/v1/communications/\(id)", token: author)
            let attachment = try #require((entry.json["attachments"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await api.get("/v1/communications/\(id)/attachments/\(attachment)", token: author).status == 200)

            #expect(try await api.get("/v1/communications/\(id)/reads", token: author).status == 403)
            let reads = try await api.get("/v1/communications/\(id)/reads", token: try await api.token("m-1", [.manager]))
            #expect(reads.status == 200, "\(reads.detail)")
            #expect(reads.items.map { $0["what"] as? String } == ["content", "attachment"])
            #expect(reads.items.allSatisfy { $0["staff_id"] as? String == "s-1" && $0["staff_name"] as? String == "Dr Lee" })
            #expect(reads.items.last?["object_id"] as? String == attachment)
            #expect(reads.items.first?["object_id"] == nil, "no object for content: left out")
            // A reader the directory does not know has no name: the field is left out (the schema's promise).
            _ = try await api.get("/v1/communications/\(id)", token: try await api.token("m-unknown", [.manager]))
            let again = try await api.get("/v1/communications/\(id)/reads", token: try await api.token("m-1", [.manager]))
            let unknown = try #require(again.items.last)
            #expect(unknown["staff_id"] as? String == "m-unknown" && unknown["staff_name"] == nil)
            #expect(try await api.get("/v1/communications/\(UUID())/reads", token: try await api.token("m-1", [.manager])).status == 404)
            await api.stop()
        }
    }

    @Test("unfiled=true lists the entries filed under no client, for managers and admins only")
    func unfiled() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let ids = try await api.insert([api.entry("filed", client: "c-1"), api.entry("loose-1", client: nil), api.entry("loose-2", client: nil)], database: database)
            let manager = try await api.token("m-1", [.manager])
            let list = try await api.get("/v1/communications", token: manager, query: ["unfiled": "true"])
            #expect(list.status == 200, "\(list.detail)")
            #expect(Set(list.ids) == Set([ids["loose-1"], ids["loose-2"]].compactMap { $0 }))
            #expect(try await api.get("/v1/communications", token: manager, query: ["unfiled": "false"]).ids.contains(try #require(ids["filed"])))
            #expect(try await api.get("/v1/communications", token: try await api.token("s-1", [.staff]), query: ["unfiled": "true"]).status == 403)
            let both = try await api.get("/v1/communications", token: manager, query: ["unfiled": "true", "client_id": "c-1"])
            #expect(both.status == 400)
            #expect(both.detail.contains("unfiled"))
            await api.stop()
        }
    }
}
