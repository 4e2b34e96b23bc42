import CommlogDomain
import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Manual entries, edits, deletes and history through the real query-api.
@Suite("query-api: manual entries")
struct WritingTests {
    @Test("a note is created with an ETag, edited with If-Match, refused when stale, and every change is in its history")
    func createEditHistory() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let author = try await api.token("s-author", [.staff])
            let created = try await api.send("POST", "/v1/communications", token: author, json: [
                "type": "note", "client_id": "c-1", "subject": "Called about Bella", "notes": "wants a call back",
                "occurred_at": "2026-11-20T10:00:00Z",
            ])
            #expect(created.status == 201, "\(created.detail)")
            #expect(created.headers["etag"] == "\"1\"")
            let id = try #require(created.json["id"] as? String)
            #expect(created.headers["location"] == "/v1/communications/\(id)")
            #expect(created.json["author_staff_id"] as? String == "s-author")
            #expect(created.json["source"] as? String == "manual")
            #expect(created.json["status"] as? String == "closed")
            #expect((created.json["occurred_at"] as? String).flatMap(RFC3339.date(from:)) == RFC3339.date(from: "2026-11-20T10:00:00Z"))

            let path = "/v1/communications/\(id)"
            let missing = try await api.send("PATCH", path, token: author, json: ["notes": "x"])
            #expect(missing.status == 428)
            #expect(missing.headers["content-type"] == "application/problem+json")
            let edited = try await api.send("PATCH", path, token: author, json: ["notes": "called back, all fine", "reason": "AD_HOC_SMS"],
                                             headers: ["If-Match": "\"1\""])
            #expect(edited.status == 200, "\(edited.detail)")
            #expect(edited.headers["etag"] == "\"2\"")
            #expect(edited.json["notes"] as? String == "called back, all fine")
            #expect(edited.json["subject"] as? String == "Called about Bella")
            let stale = try await api.send("PATCH", path, token: author, json: ["notes": "lost update"], headers: ["If-Match": "\"1\""])
            #expect(stale.status == 412)
            #expect(stale.detail.contains("\"2\""))
            let cleared = try await api.send("PATCH", path, token: author, json: ["subject": ""], headers: ["If-Match": "W/\"2\", \"9\""])
            #expect(cleared.status == 200, "\(cleared.detail)")
            #expect(cleared.json["subject"] is NSNull)

            let history = try await api.get("\(path)/history", token: author)
            #expect(history.status == 200)
            let items = history.json["items"] as? [[String: Any]] ?? []
            try #require(items.count == 3)
            #expect(items.map { $0["action"] as? String } == ["create", "update", "update"])
            #expect(items.allSatisfy { $0["staff_id"] as? String == "s-author" })
            #expect(items[0]["before"] is NSNull)
            #expect((items[1]["before"] as? [String: Any])?["notes"] as? String == "wants a call back")
            #expect((items[1]["after"] as? [String: Any])?["notes"] as? String == "called back, all fine")
            #expect((items[2]["after"] as? [String: Any])?["version"] as? Int == 3)
            await api.stop()
        }
    }

    @Test("a manual entry dated ahead keeps that date as claimed_at and is listed by when it was logged; a correction clears it")
    func futureDate() async throws {
        let api = try await QueryAPIHarness()
        let author = try await api.token("s-author", [.staff])
        let client = TestEnvironment.unique("c-future")
        let before = Date()
        let ahead = try await api.send("POST", "/v1/communications", token: author, json: [
            "type": "note", "client_id": client, "subject": "dated ahead", "occurred_at": "2099-01-01T00:00:00Z",
        ])
        #expect(ahead.status == 201, "\(ahead.detail)")
        let id = try #require(ahead.json["id"] as? String)
        let occurred = try #require((ahead.json["occurred_at"] as? String).flatMap(RFC3339.date(from:)))
        #expect(occurred <= Date() && occurred >= before.addingTimeInterval(-1))
        #expect((ahead.json["claimed_at"] as? String).flatMap(RFC3339.date(from:)) == RFC3339.date(from: "2099-01-01T00:00:00Z"))

        let later = try await api.send("POST", "/v1/communications", token: author, json: ["type": "note", "client_id": client, "subject": "logged after"])
        #expect(later.status == 201)
        #expect(later.json["claimed_at"] is NSNull)
        let list = try await api.get("/v1/communications", token: author, query: ["client_id": client])
        #expect(list.ids == [try #require(later.json["id"] as? String), id])
        #expect(list.items.first { $0["id"] as? String == id }?["claimed_at"] as? String != nil)

        // An edit of something else keeps the claim; a corrected date replaces it.
        let edited = try await api.send("PATCH", "/v1/communications/\(id)", token: author, json: ["notes": "x"], headers: ["If-Match": "\"1\""])
        #expect(edited.status == 200, "\(edited.detail)")
        #expect(edited.json["claimed_at"] as? String != nil)
        let corrected = try await api.send("PATCH", "/v1/communications/\(id)", token: author, json: ["occurred_at": "2026-11-01T09:00:00Z"], headers: ["If-Match": "\"2\""])
        #expect(corrected.status == 200, "\(corrected.detail)")
        #expect(corrected.json["claimed_at"] is NSNull)
        #expect((corrected.json["occurred_at"] as? String).flatMap(RFC3339.date(from:)) == RFC3339.date(from: "2026-11-01T09:00:00Z"))
        await api.stop()
    }

    @Test("where an entry is filed is corrected on any entry, emails and closed calls included; what was sent never changes")
    func refiling() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO patients (organisation_id, id, client_id, name) VALUES (\(org), 'p-7', 'c-7', 'Rex')", logger: database.logger)
            }
            let email = api.entry("loose-mail", client: nil, type: .email, subject: "from a carer", content: "Rex is limping")
            let call = CallsAndContentTests.call(api, "closed-call", handler: "s-h", client: "c-1", status: .closed)
            let ids = try await api.insert([email, call], database: database)
            let manager = try await api.token("m-1", [.manager])
            let mail = try #require(ids["loose-mail"])

            let refiled = try await api.send("PATCH", "/v1/communications/\(mail)", token: manager, json: [
                "client_id": "c-7", "patient_id": "p-7", "show_in_patient_history": true, "print_in_patient_history": true,
            ], headers: ["If-Match": "\"1\""])
            #expect(refiled.status == 200, "\(refiled.detail)")
            #expect(refiled.json["client_id"] as? String == "c-7")
            #expect(refiled.json["patient_id"] as? String == "p-7")
            #expect(refiled.json["print_in_patient_history"] as? Bool == true)
            #expect(refiled.json["content"] as? String == "Rex is limping")
            #expect(refiled.headers["etag"] == "\"2\"")
            let history = try await api.get("/v1/communications/\(mail)/history", token: manager)
            let last = try #require((history.json["items"] as? [[String: Any]])?.last)
            #expect(last["action"] as? String == "update" && last["staff_id"] as? String == "m-1")
            #expect((last["before"] as? [String: Any])?["client_id"] is NSNull)
            #expect((last["after"] as? [String: Any])?["client_id"] as? String == "c-7")
            #expect(try await api.get("/v1/communications", token: manager, query: ["unfiled": "true"]).ids.allSatisfy { $0 != mail })

            // What was sent stays: a subject change on the email, or a filing change mixed with one, is refused.
            #expect(try await api.send("PATCH", "/v1/communications/\(mail)", token: manager, json: ["subject": "x"], headers: ["If-Match": "*"]).status == 409)
            #expect(try await api.send("PATCH", "/v1/communications/\(mail)", token: manager, json: ["subject": "x", "client_id": "c-1"], headers: ["If-Match": "*"]).status == 409)
            // A patient of another client is refused.
            #expect(try await api.send("PATCH", "/v1/communications/\(mail)", token: manager, json: ["client_id": "c-1", "patient_id": "p-7"], headers: ["If-Match": "*"]).status == 422)

            // A closed call: related people and the flags may still be set.
            let closed = try #require(ids["generic:closed-call"])
            let related = try await api.send("PATCH", "/v1/communications/\(closed)", token: manager, json: [
                "related": [["kind": "client", "id": "c-7"]], "show_in_patient_history": true,
            ], headers: ["If-Match": "*"])
            #expect(related.status == 200, "\(related.detail)")
            #expect(related.json["show_in_patient_history"] as? Bool == true)
            #expect(try await api.send("PATCH", "/v1/communications/\(closed)", token: manager, json: ["title": "x"], headers: ["If-Match": "*"]).status == 409)
            // Staff who may not see the entry do not re-file it.
            #expect(try await api.send("PATCH", "/v1/communications/\(mail)", token: try await api.token("s-x", [.staff]), json: ["client_id": "c-9"], headers: ["If-Match": "*"]).status == 404)
            await api.stop()
        }
    }

    @Test("a call filed under no client is filed under the client its Related To names")
    func relatedToFiling() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let ids = try await api.insert([CallsAndContentTests.call(api, "unknown-caller", handler: "s-h", client: "c-x")], database: database)
            let id = try #require(ids["generic:unknown-caller"])
            try await database.withTenant(api.organisationID) { connection in
                try await connection.query("UPDATE communications SET client_id = NULL WHERE organisation_id = \(api.organisationID) AND id = \(UUID(uuidString: id)!)", logger: database.logger)
            }
            let handler = try await api.token("s-h", [.staff])
            let related = try await api.send("PATCH", "/v1/communications/\(id)", token: handler, json: ["related": [["kind": "client", "id": "c-5"]]], headers: ["If-Match": "*"])
            #expect(related.status == 200, "\(related.detail)")
            #expect(related.json["client_id"] as? String == "c-5")
            // Filed already: Related To does not move it.
            let more = try await api.send("PATCH", "/v1/communications/\(id)", token: try await api.token("m-1", [.manager]), json: ["related": [["kind": "client", "id": "c-6"]]], headers: ["If-Match": "*"])
            #expect(more.json["client_id"] as? String == "c-5")
            await api.stop()
        }
    }

    @Test("only the author or a manager edits or deletes a manual entry; a deleted entry is gone but its history stays for managers")
    func permissionsAndSoftDelete() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO related_staff (organisation_id, client_id, staff_id) VALUES (\(org), 'c-1', 's-rel')", logger: database.logger)
            }
            let author = try await api.token("s-author", [.staff])
            let related = try await api.token("s-rel", [.staff])
            let stranger = try await api.token("s-none", [.staff])
            let manager = try await api.token("m-1", [.manager])
            let otherOrganisation = try await api.token("m-1", [.manager], organisation: TestEnvironment.unique("org-other"))
            let created = try await api.send("POST", "/v1/communications", token: author, json: ["type": "phone", "client_id": "c-1", "direction": "inbound"])
            let id = try #require(created.json["id"] as? String)
            let path = "/v1/communications/\(id)"

            // Edit: related staff see it but may not change it; strangers and other organisations do not see it.
            for (token, status) in [(related, 403), (stranger, 404), (otherOrganisation, 404)] {
                let reply = try await api.send("PATCH", path, token: token, json: ["notes": "x"], headers: ["If-Match": "*"])
                #expect(reply.status == status, "\(reply.detail)")
            }
            #expect(try await api.send("PATCH", path, token: manager, json: ["notes": "by the manager"], headers: ["If-Match": "*"]).status == 200)
            // Delete: the same rules, then the entry is gone from lists and reads.
            for (token, status) in [(related, 403), (stranger, 404), (otherOrganisation, 404)] {
                #expect(try await api.send("DELETE", path, token: token).status == status)
            }
            #expect(try await api.send("DELETE", path, token: author, headers: ["If-Match": "\"1\""]).status == 412)
            #expect(try await api.send("DELETE", path, token: author).status == 204)
            #expect(try await api.get(path, token: author).status == 404)
            #expect(try await api.get("/v1/communications", token: manager, query: ["client_id": "c-1"]).ids.isEmpty)
            #expect(try await api.send("DELETE", path, token: author).status == 404)
            #expect(try await api.get("\(path)/history", token: author).status == 404)
            let history = try await api.get("\(path)/history", token: manager)
            #expect((history.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["create", "update", "delete"])
            let deletedBy = try await database.withTenant(org) { connection in
                try await connection.query("SELECT deleted_by FROM communications WHERE organisation_id = \(org) AND id = \(UUID(uuidString: id)!)",
                                           logger: database.logger).decode(String?.self).all().first ?? nil
            }
            #expect(deletedBy == "s-author")
            await api.stop()
        }
    }

    @Test("emails, SMS and reminders are never edited or deleted (409 with the reason)")
    func immutableTypes() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let ids = try await api.insert([
                api.entry("email", client: "c-1", author: "s-1", type: .email, content: "sent"),
                api.entry("sms", client: "c-1", author: "s-1", type: .sms, content: "sent"),
                api.entry("letter", client: "c-1", author: "s-1", type: .mail, content: "a printed reminder"),
            ], database: database)
            let manager = try await api.token("m-1", [.manager])
            for ref in ["email", "sms", "letter"] {
                let patch = try await api.send("PATCH", "/v1/communications/\(ids[ref]!)", token: manager, json: ["notes": "x"], headers: ["If-Match": "*"])
                #expect(patch.status == 409, "\(ref): \(patch.status)")
                #expect(patch.detail.contains("never edited"), "\(patch.detail)")
                #expect(try await api.send("DELETE", "/v1/communications/\(ids[ref]!)", token: manager).status == 409)
            }
            await api.stop()
        }
    }

    @Test("an SMS or email sent or received outside Commlog is logged by hand: marked manual, so its author corrects and deletes it")
    func manualSMSAndEmail() async throws {
        try await TestEnvironment.withDatabase { _ in
            let api = try await QueryAPIHarness()
            let author = try await api.token("s-author", [.staff])
            for (type, direction) in [("sms", "inbound"), ("email", "outbound")] {
                let created = try await api.send("POST", "/v1/communications", token: author, json: [
                    "type": type, "direction": direction, "client_id": "c-1", "address": "+61412345678", "notes": "from my own phone",
                ])
                #expect(created.status == 201, "\(type): \(created.detail)")
                #expect(created.json["type"] as? String == type && created.json["source"] as? String == "manual")
                #expect(created.json["direction"] as? String == direction)
                let id = try #require(created.json["id"] as? String)
                let edited = try await api.send("PATCH", "/v1/communications/\(id)", token: author, json: ["notes": "sent from my own phone"],
                                                 headers: ["If-Match": "\"1\""])
                #expect(edited.status == 200, "\(type): \(edited.detail)")
                let deleted = try await api.send("DELETE", "/v1/communications/\(id)", token: author, headers: ["If-Match": "\"2\""])
                #expect(deleted.status == 204, "\(type): \(deleted.detail)")
            }
            await api.stop()
        }
    }

    @Test("bad bodies get 4xx problems that say what is wrong")
    func badInput() async throws {
        try await TestEnvironment.withDatabase { _ in
            let api = try await QueryAPIHarness()
            let staff = try await api.token("s-1", [.staff])
            let cases: [(String, Any?, Data?, String?, Int, String)] = [
                ("note with a direction", ["type": "note", "client_id": "c-1", "direction": "inbound"], nil, "application/json", 422, "direction"),
                ("unknown reason", ["type": "note", "client_id": "c-1", "reason": "NO_SUCH_REASON"], nil, "application/json", 422, "reason"),
                ("unknown type", ["type": "fax", "client_id": "c-1"], nil, "application/json", 400, "type"),
                ("missing client", ["type": "note"], nil, "application/json", 400, "client_id"),
                ("blank client", ["type": "note", "client_id": "   "], nil, "application/json", 400, "client_id"),
                ("long subject", ["type": "note", "client_id": "c-1", "subject": String(repeating: "x", count: 1001)], nil, "application/json", 400, "subject"),
                ("bad date", ["type": "note", "client_id": "c-1", "occurred_at": "yesterday"], nil, "application/json", 400, "yesterday"),
                ("not JSON", nil, Data("type=note".utf8), "application/x-www-form-urlencoded", 415, "application/json"),
                ("broken JSON", nil, Data("{\"type\": ".utf8), "application/json", 400, "JSON"),
                ("too large", nil, Data(repeating: 0x20, count: (1 << 20) + 10), "application/json", 413, "bytes"),
            ]
            for (name, json, body, type, status, mention) in cases {
                let reply = try await api.send("POST", "/v1/communications", token: staff, json: json, body: body, contentType: type)
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.detail)")
                #expect(reply.headers["content-type"] == "application/problem+json", "\(name)")
                #expect(reply.detail.contains(mention), "\(name): \(reply.detail)")
            }
            let created = try await api.send("POST", "/v1/communications", token: staff, json: ["type": "note", "client_id": "c-1"])
            let id = try #require(created.json["id"] as? String)
            let patches: [(String, [String: Any], Int)] = [
                ("title and subject differ", ["title": "a", "subject": "b"], 422),
                ("direction on a note", ["direction": "outbound"], 422),
                ("unknown related kind", ["related": [["kind": "pet", "id": "x"]]], 400),
            ]
            for (name, json, status) in patches {
                let reply = try await api.send("PATCH", "/v1/communications/\(id)", token: staff, json: json, headers: ["If-Match": "*"])
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.detail)")
            }
            let unchanged = try await api.send("PATCH", "/v1/communications/\(id)", token: staff, json: ["patient_id": NSNull()], headers: ["If-Match": "\"1\""])
            #expect(unchanged.status == 200)
            #expect(unchanged.headers["etag"] == "\"1\"", "a patch without fields changes nothing")
            let wrongMethod = try await api.send("PUT", "/v1/communications/\(id)", token: staff, json: ["notes": "x"])
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["allow"] == "GET, PATCH, DELETE")
            #expect(try await api.send("TRACE", "/healthz", token: nil).status == 405)
            #expect(try await api.send("PATCH", "/v1/communications/not-a-uuid", token: staff, json: ["notes": "x"], headers: ["If-Match": "*"]).status == 400)
            await api.stop()
        }
    }
}
