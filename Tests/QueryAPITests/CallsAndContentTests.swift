import CommlogDomain
import Foundation
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Open calls, ending them, recordings and attachments through the real query-api.
@Suite("query-api: calls and content")
struct CallsAndContentTests {
    /// Stores `audio` as call-bridge does (migration 0014): chunks of one upload, then the row that names it.
    static func storeRecording(_ audio: [UInt8], type: String, of call: UUID, in org: String, chunkSize: Int = 1024 * 1024, database: Database) async throws {
        let upload = UUID()
        try await database.withTenant(org) { connection in
            for (position, start) in stride(from: 0, to: max(audio.count, 1), by: chunkSize).enumerated() {
                let chunk = ByteBuffer(bytes: audio[start..<min(start + chunkSize, audio.count)])
                try await connection.query("""
                    INSERT INTO recording_chunks (organisation_id, upload_id, communication_id, position, bytes)
                    VALUES (\(org), \(upload), \(call), \(position), \(chunk))
                    """, logger: database.logger)
            }
            try await connection.query("""
                INSERT INTO recordings (organisation_id, communication_id, url, content_type, size, sha256, upload_id, chunk_size, fetched_at)
                VALUES (\(org), \(call), 'https://pbx.example/rec', \(type), \(audio.count), 'abc', \(upload), \(chunkSize), now())
                """, logger: database.logger)
        }
    }

    static func call(_ api: QueryAPIHarness, _ ref: String, handler: String, client: String = "c-1", status: CommunicationStatus = .open) -> NewCommunication {
        NewCommunication(
            organisationID: api.organisationID, type: .phone, direction: .inbound, status: status, occurredAt: Date(),
            clientID: client, address: "+61412345678", source: .phone, sourceRef: "generic:\(ref)",
            participants: [
                Participant(role: .caller, kind: .client, id: client, address: "+61412345678"),
                Participant(role: .handler, kind: .staff, id: handler, address: "201"),
            ]
        )
    }

    @Test("an open call is edited by its handler (title, description, related), ended, and never changes after")
    func openCallLifecycle() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let ids = try await api.insert([Self.call(api, "a", handler: "s-h"), Self.call(api, "b", handler: "s-other")], database: database)
            let id = ids["generic:a"]!
            let handler = try await api.token("s-h", [.staff])
            let stranger = try await api.token("s-none", [.staff])
            let manager = try await api.token("m-1", [.manager])

            let open = try await api.get("/v1/calls/open", token: handler)
            #expect(open.ids == [id])
            #expect(try await api.get("/v1/calls/open", token: stranger).ids.isEmpty)
            #expect(try await api.get("/v1/calls/open", token: manager).ids.isEmpty, "the open calls are the caller's own")

            let path = "/v1/communications/\(id)"
            let edited = try await api.send("PATCH", path, token: handler, json: [
                "title": "Bella's vaccination", "description": "asked about boosters",
                "related": [["kind": "staff", "id": "s-vet"], ["kind": "connection", "id": "k-1"]],
            ], headers: ["If-Match": "\"1\""])
            #expect(edited.status == 200, "\(edited.detail)")
            #expect(edited.json["subject"] as? String == "Bella's vaccination")
            let related = (edited.json["participants"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "related" }
            #expect(related.map { "\($0["kind"]!):\($0["id"]!)" } == ["staff:s-vet", "connection:k-1"])
            // The related staff member now sees the call too.
            #expect(try await api.get(path, token: try await api.token("s-vet", [.staff])).status == 200)
            let notes = try await api.send("PATCH", path, token: handler, json: ["notes": "x"], headers: ["If-Match": "*"])
            #expect(notes.status == 422)
            #expect(notes.detail.contains("notes"))
            #expect(try await api.send("POST", "/v1/calls/\(id)/end", token: stranger).status == 404)
            #expect(try await api.send("DELETE", path, token: manager).status == 409)

            let ended = try await api.send("POST", "/v1/calls/\(id)/end", token: handler)
            #expect(ended.status == 200, "\(ended.detail)")
            #expect(ended.json["status"] as? String == "closed")
            #expect(ended.json["closed_at"] is String)
            #expect(try await api.send("POST", "/v1/calls/\(id)/end", token: handler).status == 409)
            let late = try await api.send("PATCH", path, token: handler, json: ["description": "too late"], headers: ["If-Match": "*"])
            #expect(late.status == 409)
            #expect(try await api.get("/v1/calls/open", token: handler).ids.isEmpty)
            let history = try await api.get("\(path)/history", token: handler)
            #expect((history.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["update", "end_call"])
            // A manual entry is not a call.
            let note = try await api.send("POST", "/v1/communications", token: handler, json: ["type": "note", "client_id": "c-1"])
            #expect(try await api.send("POST", "/v1/calls/\(note.json["id"] as! String)/end", token: handler).status == 409)
            await api.stop()
        }
    }

    @Test("a recording and an attachment are served to who may see the entry, and every read is audited")
    func recordingAndAttachment() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            var email = api.entry("mail", client: "c-1", author: "s-1", type: .email, content: "see attached")
            email = NewCommunication(
                organisationID: org, type: .email, direction: .outbound, occurredAt: Date(), clientID: "c-1", authorStaffID: "s-1",
                content: "see attached", source: .mailbox, sourceRef: "mail",
                attachments: [
                    NewAttachment(name: "résumé \"final\".pdf", contentType: "application/pdf", size: 5, content: Array("%PDF-".utf8)),
                    NewAttachment(name: "kept-elsewhere.pdf", contentType: "application/pdf", size: 10),
                ]
            )
            let ids = try await api.insert([Self.call(api, "rec", handler: "s-h"), email], database: database)
            let callID = UUID(uuidString: ids["generic:rec"]!)!
            let audio: [UInt8] = [0x49, 0x44, 0x33, 0x04, 0x00, 0xFF]
            try await Self.storeRecording(audio, type: "audio/mpeg", of: callID, in: org, database: database)
            let handler = try await api.token("s-h", [.staff])
            let stranger = try await api.token("s-none", [.staff])
            let recording = try await api.get("/v1/communications/\(callID.uuidString.lowercased())/recording", token: handler)
            #expect(recording.status == 200)
            #expect(Array(recording.body) == audio)
            #expect(recording.headers["content-type"] == "audio/mpeg")
            #expect(recording.headers["content-disposition"]?.hasPrefix("inline; filename=\"call-") == true)
            #expect(try await api.get("/v1/communications/\(callID.uuidString.lowercased())/recording", token: stranger).status == 404)
            #expect(try await api.get("/v1/communications/\(ids["mail"]!)/recording", token: try await api.token("s-1", [.staff])).status == 404)

            let author = try await api.token("s-1", [.staff])
            let entry = try await api.get("/v1/communications/\(ids["mail"]!)", token: author)
            let attachments = entry.json["attachments"] as? [[String: Any]] ?? []
            #expect(attachments.map { $0["has_content"] as? Bool } == [true, false])
            let first = try #require(attachments.first?["id"] as? String)
            let download = try await api.get("/v1/communications/\(ids["mail"]!)/attachments/\(first)", token: author)
            #expect(download.status == 200)
            #expect(Array(download.body) == Array("%PDF-".utf8))
            let part = try await api.send("GET", "/v1/communications/\(ids["mail"]!)/attachments/\(first)", token: author, headers: ["Range": "bytes=1-3"])
            #expect(part.status == 206)
            #expect(Array(part.body) == Array("PDF".utf8))
            #expect(part.headers["content-range"] == "bytes 1-3/5")
            #expect(download.headers["content-disposition"] == "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf")
            #expect(try await api.get("/v1/communications/\(ids["mail"]!)/attachments/\(attachments[1]["id"] as! String)", token: author).status == 404)
            #expect(try await api.get("/v1/communications/\(ids["mail"]!)/attachments/\(first)", token: stranger).status == 404)
            #expect(try await api.get("/v1/communications/\(ids["mail"]!)/attachments/nope", token: author).status == 400)

            let audits = try await database.withTenant(org) { connection in
                try await connection.query("SELECT staff_id, what, object_id FROM read_audit WHERE organisation_id = \(org) ORDER BY id", logger: database.logger)
                    .decode((String, String, String?).self).all()
            }
            #expect(audits.map { "\($0.0):\($0.1):\($0.2 ?? "-")" } == ["s-h:recording:-", "s-1:content:-", "s-1:attachment:\(first)", "s-1:attachment:\(first)"])
            await api.stop()
        }
    }

    @Test("an email's HTML is served only to who may see the entry, sandboxed (no script, nothing remote), and the read is audited")
    func htmlBody() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            let html = "<p>Dear Ann,</p><img src=\"https://tracker.example/pixel.gif\"><script>alert(1)</script>"
            let ids = try await api.insert([
                api.entry("with-html", client: "c-1", author: "s-1", type: .email, content: "Dear Ann,"),
                api.entry("text-only", client: "c-1", author: "s-1", type: .email, content: "plain"),
            ], database: database)
            let withHTML = try #require(ids["with-html"].flatMap(UUID.init(uuidString:)))
            try await database.withTenant(org) { connection in
                try await CommunicationWriter.keepContents([(withHTML, nil, html)], on: connection, logger: database.logger)
            }
            let author = try await api.token("s-1", [.staff])
            let reply = try await api.get("/v1/communications/\(withHTML.uuidString.lowercased())/html", token: author)
            #expect(reply.status == 200, "\(reply.detail)")
            #expect(String(decoding: reply.body, as: UTF8.self) == html, "served as it was kept")
            #expect(reply.headers["content-type"]?.hasPrefix("text/html") == true)
            let policy = try #require(reply.headers["content-security-policy"])
            #expect(policy.hasPrefix("sandbox;") && policy.contains("default-src 'none'") && !policy.contains("https:"))
            #expect(reply.headers["x-content-type-options"] == "nosniff")
            // The reader's choice: images over HTTPS, and still nothing else.
            let remote = try await api.get("/v1/communications/\(withHTML.uuidString.lowercased())/html", token: author, query: ["remote_images": "true"])
            #expect(remote.headers["content-security-policy"] == "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid: https:; frame-ancestors 'self'")
            #expect(try await api.get("/v1/communications/\(withHTML.uuidString.lowercased())/html", token: author, query: ["remote_images": "maybe"]).status == 400)

            #expect(try await api.get("/v1/communications/\(ids["text-only"]!)/html", token: author).status == 404, "no HTML kept")
            #expect(try await api.get("/v1/communications/\(withHTML.uuidString.lowercased())/html", token: try await api.token("s-none", [.staff])).status == 404)
            #expect(try await api.get("/v1/communications/nope/html", token: author).status == 400)
            let audits = try await database.withTenant(org) { connection in
                try await connection.query("SELECT staff_id, what FROM read_audit WHERE organisation_id = \(org) ORDER BY id", logger: database.logger)
                    .decode((String, String).self).all()
            }
            #expect(audits.map { "\($0.0):\($0.1)" } == ["s-1:content", "s-1:content"])
            await api.stop()
        }
    }

    @Test("a recording of several megabytes is streamed whole or in the part a player asks for with Range; bad ranges are ignored or a 416")
    func ranges() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            let ids = try await api.insert([Self.call(api, "big", handler: "s-h")], database: database)
            let callID = ids["generic:big"]!
            let audio = (0..<(3 * 1024 * 1024 + 123)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            // Chunks of an odd size, so that ranges start, end and cross chunks anywhere.
            try await Self.storeRecording(audio, type: "audio/wav", of: UUID(uuidString: callID)!, in: org, chunkSize: 1_000_003, database: database)
            let token = try await api.token("s-h", [.staff])
            let path = "/v1/communications/\(callID)/recording"
            func get(_ range: String?) async throws -> QueryAPIHarness.Reply {
                try await api.send("GET", path, token: token, headers: range.map { ["Range": $0] } ?? [:])
            }
            let whole = try await get(nil)
            #expect(whole.status == 200)
            #expect(whole.headers["accept-ranges"] == "bytes")
            #expect(Array(whole.body) == audio)

            let middle = try await get("bytes=1048570-1048589")
            #expect(middle.status == 206)
            #expect(middle.headers["content-range"] == "bytes 1048570-1048589/\(audio.count)")
            #expect(Array(middle.body) == Array(audio[1048570...1048589]))

            // Ranges at and across the chunk boundaries (1,000,003 and 2,000,006).
            for (first, last) in [(1_000_000, 1_000_010), (1_000_003, 1_000_003), (999_990, 2_000_010), (0, 1_000_002), (2_000_006, 3_000_008)] {
                let part = try await get("bytes=\(first)-\(last)")
                #expect(part.status == 206)
                #expect(Array(part.body) == Array(audio[first...last]), "\(first)-\(last)")
            }

            let tail = try await get("bytes=-100")
            #expect(tail.status == 206)
            #expect(Array(tail.body) == Array(audio.suffix(100)))
            let open = try await get("bytes=3145700-")
            #expect(open.status == 206)
            #expect(Array(open.body) == Array(audio[3145700...]))
            #expect(open.headers["content-range"] == "bytes 3145700-\(audio.count - 1)/\(audio.count)")

            let beyond = try await get("bytes=\(audio.count)-")
            #expect(beyond.status == 416)
            #expect(beyond.headers["content-range"] == "bytes */\(audio.count)")
            #expect(beyond.headers["content-type"]?.hasPrefix("application/problem+json") == true)
            for ignored in ["bytes=abc", "bytes=0-1,5-9", "items=0-9", "bytes=9-1", "bytes=--1", String(repeating: "9", count: 200)] {
                let reply = try await get(ignored)
                #expect(reply.status == 200, "\(ignored)")
                #expect(reply.body.count == audio.count, "\(ignored)")
            }
            await api.stop()
        }
    }
}

/// Who may end a call and hear its recording: everyone who may see the call, nobody else.
@Suite("query-api: call permissions")
struct CallPermissionTests {
    @Test("end-call and recording for related staff, handler, participant, unrelated staff, manager, admin and another organisation")
    func matrix() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO related_staff (organisation_id, client_id, staff_id) VALUES (\(org), 'c-1', 's-rel')", logger: database.logger)
            }
            let cases: [(String, String, [StaffRole], String?, Int)] = [
                ("related staff", "s-rel", [.staff], nil, 200),
                ("handler", "s-h", [.staff], nil, 200),
                ("unrelated staff", "s-none", [.staff], nil, 404),
                ("manager", "m-1", [.manager], nil, 200),
                ("admin", "a-1", [.admin], nil, 200),
                ("another organisation's manager", "m-1", [.manager], TestEnvironment.unique("org-other"), 404),
            ]
            for (index, (who, staff, roles, organisation, status)) in cases.enumerated() {
                let ids = try await api.insert([CallsAndContentTests.call(api, "perm-\(index)", handler: "s-h")], database: database)
                let id = ids["generic:perm-\(index)"]!
                try await CallsAndContentTests.storeRecording([1, 2, 3], type: "audio/wav", of: UUID(uuidString: id)!, in: org, database: database)
                let token = try await api.token(staff, roles, organisation: organisation)
                let recording = try await api.get("/v1/communications/\(id)/recording", token: token)
                #expect(recording.status == status, "\(who): recording \(recording.status)")
                let ended = try await api.send("POST", "/v1/calls/\(id)/end", token: token)
                #expect(ended.status == status, "\(who): end \(ended.status) \(ended.detail)")
                let edit = try await api.send("PATCH", "/v1/communications/\(id)", token: token, json: ["description": "x"], headers: ["If-Match": "*"])
                #expect(edit.status == (status == 200 ? 409 : 404), "\(who): edit after the end \(edit.status)")
            }
            await api.stop()
        }
    }
}
