import CommlogDomain
import Foundation
import Testing
import TestSupport

@Suite("query-api: lists, filters and bad input")
struct ListingTests {
    @Test("pages follow each other without gaps or repeats, even while new entries arrive")
    func pagination() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let start = Date().addingTimeInterval(-1_000)
            // Pairs share a timestamp, so the id breaks the tie.
            let ids = try await api.insert((0..<25).map { api.entry("p\($0)", client: "c-9", at: start.addingTimeInterval(Double($0 / 2))) }, database: database)
            let manager = try await api.token("m", [.manager])
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                var query = ["client_id": "c-9", "limit": "10"]
                if let cursor { query["cursor"] = cursor }
                let page = try await api.get("/v1/communications", token: manager, query: query)
                #expect(page.status == 200, "\(page.detail)")
                seen += page.ids
                cursor = page.nextCursor
                pages += 1
                // Newer entries arriving meanwhile do not disturb the pages still to come.
                _ = try await api.insert([api.entry("new\(pages)", client: "c-9")], database: database)
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 25)
            #expect(Set(seen) == Set(ids.values))
        }
    }

    @Test("a cursor is signed: altered, forged or taken to another organisation it is refused with 400")
    func signedCursors() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let start = Date().addingTimeInterval(-1_000)
            _ = try await api.insert((0..<3).map { api.entry("s\($0)", client: "c-8", at: start.addingTimeInterval(Double($0))) }, database: database)
            let manager = try await api.token("m", [.manager])
            let first = try await api.get("/v1/communications", token: manager, query: ["client_id": "c-8", "limit": "1"])
            let cursor = try #require(first.nextCursor)
            #expect(try await api.get("/v1/communications", token: manager, query: ["client_id": "c-8", "limit": "1", "cursor": cursor]).status == 200)

            // The same signature on another position (one microsecond later, to see an entry again).
            let data = try #require(Data(base64URL: cursor))
            let text = String(decoding: data, as: UTF8.self)
            var parts = text.split(separator: ".").map(String.init)
            #expect(parts.count == 4 && parts[0] == "v2")
            let micros = try #require(Int64(parts[1]))
            parts[1] = String(micros + 1)
            let altered = Data(parts.joined(separator: ".").utf8).base64URL
            // A cursor of the old, unsigned form: the position alone.
            let unsigned = Data("v1.\(parts[1]).\(parts[2])".utf8).base64URL
            for bad in [altered, unsigned] {
                let reply = try await api.get("/v1/communications", token: manager, query: ["client_id": "c-8", "limit": "1", "cursor": bad])
                #expect(reply.status == 400)
                #expect(reply.detail.contains("cursor"), "\(reply.detail)")
            }
            let elsewhere = try await api.token("m", [.manager], organisation: TestEnvironment.unique("org-other"))
            let reply = try await api.get("/v1/communications", token: elsewhere, query: ["client_id": "c-8", "limit": "1", "cursor": cursor])
            #expect(reply.status == 400)
            await api.stop()
        }
    }

    @Test("every filter narrows the list, and they combine")
    func filters() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let now = Date()
            var entries = [
                api.entry("sms-old", client: "c-1", at: now.addingTimeInterval(-7200)),
                api.entry("email", client: "c-1", type: .email, at: now.addingTimeInterval(-60), subject: "Vaccination booked", content: "See you Tuesday"),
                api.entry("note", client: "c-1", type: .note, at: now.addingTimeInterval(-30), subject: "Called about the invoice"),
            ]
            entries.append(NewCommunication(organisationID: api.organisationID, type: .phone, direction: .inbound, status: .open, occurredAt: now,
                                            clientID: "c-1", locationID: "loc-2", reason: "FOLLOW_UP", source: .phone, sourceRef: "call"))
            let ids = try await api.insert(entries, database: database)
            let manager = try await api.token("m", [.manager])
            func list(_ query: [String: String]) async throws -> [String] {
                let reply = try await api.get("/v1/communications", token: manager, query: query.merging(["client_id": "c-1"]) { a, _ in a })
                #expect(reply.status == 200, "\(reply.detail)")
                return reply.ids
            }
            #expect(try await list(["type": "email"]) == [ids["email"]!])
            #expect(try await list(["direction": "inbound"]) == [ids["call"]!])
            #expect(try await list(["status": "open"]) == [ids["call"]!])
            #expect(try await list(["reason": "FOLLOW_UP"]) == [ids["call"]!])
            #expect(try await list(["location_id": "loc-2"]) == [ids["call"]!])
            #expect(try await list(["q": "vaccination"]) == [ids["email"]!])
            #expect(try await list(["q": "tuesday"]) == [ids["email"]!], "content is searched too")
            #expect(try await list(["q": "invoice", "type": "note"]) == [ids["note"]!])
            let hourAgo = ISO8601DateFormatter().string(from: now.addingTimeInterval(-3600))
            #expect(try await list(["to": hourAgo]) == [ids["sms-old"]!])
            #expect(try await list(["from": hourAgo]).count == 3)
            #expect(try await list(["type": "sms", "from": hourAgo]).isEmpty)
            await api.stop()
        }
    }

    @Test("a board-wide search pages through every match newest first: past a run of matches at one time, and when a filter passes over the newest")
    func boardSearchNewestFirst() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let word = "kestrel\(UUID().uuidString.prefix(8).lowercased())"
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 100_000).rounded())
            // 150 notes, one a second; 40 of them (positions 90 to 129) share one time, across the first probe's
            // edge (2 × 11 = 22 newest); the 12 oldest matches are emails; entries without the word are between.
            var entries: [NewCommunication] = []
            for index in 0..<150 {
                let at = start.addingTimeInterval(Double(90...129 ~= index ? 90 : index))
                let type: CommunicationType = index < 12 ? .email : .note
                entries.append(api.entry("m\(index)", client: "c-\(index % 7)", type: type, at: at, subject: "about the \(word) \(index)"))
                entries.append(api.entry("other\(index)", client: "c-\(index % 7)", type: type, at: at, subject: "nothing to see"))
            }
            let ids = try await api.insert(entries, database: database)
            let matches = (0..<150).map { "m\($0)" }
            func newestFirst(_ refs: [String]) -> [String] {
                refs.sorted { a, b in
                    let (ta, tb) = (entries.first { $0.sourceRef == a }!.occurredAt, entries.first { $0.sourceRef == b }!.occurredAt)
                    return ta != tb ? ta > tb : ids[a]! > ids[b]!
                }.map { ids[$0]! }
            }
            let manager = try await api.token("m", [.manager])
            func walk(_ query: [String: String]) async throws -> [String] {
                var seen: [String] = []
                var cursor: String?
                repeat {
                    var query = query.merging(["q": word, "limit": "10"]) { a, _ in a }
                    if let cursor { query["cursor"] = cursor }
                    let page = try await api.get("/v1/communications", token: manager, query: query)
                    #expect(page.status == 200, "\(page.detail)")
                    seen += page.ids
                    cursor = page.nextCursor
                } while cursor != nil && seen.count < 400
                return seen
            }
            let all = try await walk([:]), expected = newestFirst(matches)
            #expect(all == expected, "\(all.count) of \(expected.count); first difference at \(Array(zip(all, expected)).firstIndex { $0 != $1 } ?? -1)")
            #expect(try await walk(["type": "email"]) == newestFirst(Array(matches.prefix(12))), "the newest matches are notes: the probe finds no email, the page asks again")
            await api.stop()
        }
    }

    @Test("a board search's words are the user's, whatever they hold: quotes, backslashes, operators and phrases find what they say or nothing, never an error")
    func boardSearchHostileWords() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let tag = "osprey\(UUID().uuidString.prefix(8).lowercased())"
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 50_000).rounded())
            let subjects = [
                "brien": "\(tag) O'Brien's dog, booster due", "slash": "\(tag) saved to C:\\scans\\lab.pdf",
                "both": "\(tag) alpha and beta", "alpha": "\(tag) alpha only", "beta": "\(tag) beta only",
            ]
            let entries = subjects.keys.sorted().enumerated().map { index, ref in
                api.entry(ref, client: "c-1", type: .note, at: start.addingTimeInterval(Double(index)), subject: subjects[ref]!)
            }
            let ids = try await api.insert(entries, database: database)
            let manager = try await api.token("m", [.manager])
            func found(_ words: String) async throws -> Set<String> {
                let reply = try await api.get("/v1/communications", token: manager, query: ["q": words, "limit": "50"])
                #expect(reply.status == 200, "q=\(words): \(reply.status) \(reply.detail)")
                let names = Dictionary(uniqueKeysWithValues: ids.map { ($1, $0) })
                return Set(reply.ids.compactMap { names[$0] })
            }
            // Websearch syntax: a quoted phrase, "or", a leading minus; tsquery's own operators are words to it.
            #expect(try await found("\(tag) o'brien") == ["brien"])
            #expect(try await found("\(tag) \"O'Brien's dog\"") == ["brien"])
            #expect(try await found("\(tag) C:\\scans\\lab.pdf") == ["slash"])
            #expect(try await found("\(tag) alpha -beta") == ["alpha"])
            #expect(try await found("\(tag) alpha or beta") == ["alpha", "beta", "both"])
            #expect(try await found("\(tag) alpha:* & !beta") == ["both"], "`alpha:*`, `&` and `!beta` are not operators here: alpha and beta")
            for nothing in ["'", "''", "\\", "\\'", "')) OR 1=1 --", "%1$L", "$1", "!!!", "&|<->()", "\"", "-", "*:"] {
                #expect(try await found("\(tag) \(nothing)").isSubset(of: ["brien", "slash", "both", "alpha", "beta"]))
                #expect(try await found(nothing).isEmpty, "q=\(nothing)")
            }
            await api.stop()
        }
    }

    @Test("missing, malformed and expired tokens get 401 problems")
    func unauthorised() async throws {
        let api = try await QueryAPIHarness()
        let expired = try await api.token("s", [.staff], expires: Date().addingTimeInterval(-10))
        let foreign = try await StaffTokenKeysForTest.foreignToken()
        for token in [nil, "garbage", expired, foreign] {
            let reply = try await api.get("/v1/communications", token: token, query: ["client_id": "c-1"])
            #expect(reply.status == 401)
            #expect(reply.headers["content-type"] == "application/problem+json")
            #expect(!reply.detail.isEmpty)
        }
        await api.stop()
    }

    @Test("bad input gets a 400 problem that names what is wrong", arguments: [
        (["limit": "0"], "limit"), (["limit": "201"], "limit"), (["limit": "ten"], "limit"),
        (["cursor": "not-a-cursor"], "cursor"), (["cursor": "djEuOTIyMzM3MjAzNjg1NDc3NTgwNy4wMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDE"], "cursor"), (["cursor": "djEuLTkyMjMzNzIwMzY4NTQ3NzU4MDguMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAx"], "cursor"),
        (["cursor": Data("v2.9223372036854775807.00000000-0000-0000-0000-000000000001.00000000000000000000000000000000".utf8).base64URL], "cursor"),
        (["type": "fax"], "fax"), (["from": "yesterday"], "from"),
        (["client_id": String(repeating: "x", count: 300)], "client_id"),
    ])
    func badInput(query: [String: String], mentions: String) async throws {
        let api = try await QueryAPIHarness()
        var query = query
        if query["client_id"] == nil { query["client_id"] = "c-1" }
        let reply = try await api.get("/v1/communications", token: try await api.token("m", [.manager]), query: query)
        #expect(reply.status == 400)
        #expect(reply.headers["content-type"] == "application/problem+json")
        #expect(reply.detail.contains(mentions), "\(reply.detail)")
        #expect(try await api.get("/v1/communications/not-a-uuid", token: try await api.token("m", [.manager])).status == 400)
        await api.stop()
    }
}

/// List pages are written by a hand-made JSON writer (query-api's hot path), entries by id through `Codable`:
/// both must give the same JSON for the same entry, whatever its text holds.
@Suite("query-api: list JSON")
struct ListJSONTests {
    @Test("an entry in a list is the same JSON as the summary fields of the entry by id, escapes and all")
    func sameJSON() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let tricky = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul-free ünïcödé 日本語 🐾 \u{1F}"
            let ids = try await api.insert([
                NewCommunication(
                    organisationID: api.organisationID, type: .email, direction: .inbound, occurredAt: Date(timeIntervalSince1970: 1_795_000_000.123456),
                    clientID: "c-\"1\"", authorStaffID: "s-1", reason: .adHocEmail, address: "ann@example.org", subject: tricky,
                    description: nil, notes: "line one\r\nline two", content: "body", source: .mailbox, sourceRef: "json-1",
                    template: "T\\1", reminderType: nil, reminderCount: 3, showInPatientHistory: true,
                    participants: [Participant(role: .from, kind: .external, id: nil, address: "ann@example.org", name: "Ann \"A\" Smith")]
                ),
            ], database: database)
            let token = try await api.token("m-1", [.manager])
            let list = try await api.get("/v1/communications", token: token, query: ["client_id": "c-\"1\""])
            #expect(list.status == 200)
            #expect(list.headers["content-length"] == "\(list.body.count)")
            let item = try #require((list.json["items"] as? [[String: Any]])?.first)
            #expect(list.json.keys.sorted() == ["items", "next_cursor"])
            #expect(list.json["next_cursor"] is NSNull)
            let byID = try await api.get("/v1/communications/\(ids["json-1"]!)", token: token).json
            for key in Set(byID.keys).subtracting(["content", "attachments", "recording"]) {
                #expect(item[key] != nil, "\(key) is missing from the list item")
                let listed = try JSONSerialization.data(withJSONObject: ["v": item[key] ?? NSNull()], options: [.sortedKeys])
                let read = try JSONSerialization.data(withJSONObject: ["v": byID[key] ?? NSNull()], options: [.sortedKeys])
                #expect(listed == read, "\(key): \(String(decoding: listed, as: UTF8.self)) != \(String(decoding: read, as: UTF8.self))")
            }
            #expect(Set(item.keys) == Set(byID.keys).subtracting(["content", "attachments", "recording"]))
            #expect(item["subject"] as? String == tricky)
            await api.stop()
        }
    }
}

extension Data {
    /// base64url without padding, as the API writes cursors.
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
