import CommlogDomain
import Foundation
import PostgresNIO
@testable import QueryAPI
import Storage
import Testing
import TestSupport

/// Directory look-ups: search by name, email and phone, one client or patient, locations and staff, and who
/// sees contact details.
@Suite("query-api: directory")
struct DirectoryTests {
    /// A small practice: Ann Smith (cared for by s-care) with her dog Bella, her husband Tom, and two colleagues.
    static func seed(_ org: String, _ database: Database) async throws {
        try await database.withTenant(org) { connection in
            for statement: PostgresQuery in [
                "INSERT INTO staff (organisation_id, id, name, email, roles, extension, phones) VALUES (\(org), 's-care', 'Dr Priya Lee', 'lee@clinic.example', '{staff}', '201', '{+442070000001}')",
                "INSERT INTO staff (organisation_id, id, name, roles) VALUES (\(org), 's-other', 'Sam Other', '{staff}')",
                "INSERT INTO clients (organisation_id, id, name, emails, phones) VALUES (\(org), 'c-ann', 'Ann Smith', '{ann.smith@example.org}', '{07700 900123}')",
                "INSERT INTO clients (organisation_id, id, name) VALUES (\(org), 'c-john', 'John Smithers')",
                "INSERT INTO clients (organisation_id, id, name) VALUES (\(org), 'c-gone', 'Smith Departed')",
                "UPDATE clients SET deleted_at = now() WHERE organisation_id = \(org) AND id = 'c-gone'",
                "INSERT INTO related_staff (organisation_id, client_id, staff_id) VALUES (\(org), 'c-ann', 's-care')",
                "INSERT INTO patients (organisation_id, id, client_id, name) VALUES (\(org), 'p-bella', 'c-ann', 'Bella')",
                "INSERT INTO patients (organisation_id, id, client_id, name) VALUES (\(org), 'p-old', 'c-ann', 'Old Rex')",
                "UPDATE patients SET deleted_at = now() WHERE organisation_id = \(org) AND id = 'p-old'",
                "INSERT INTO connections (organisation_id, id, client_id, name, relationship, emails, phones) VALUES (\(org), 'k-tom', 'c-ann', 'Tom Smith', 'spouse', '{tom@example.org}', '{+447700900456}')",
                "INSERT INTO locations (organisation_id, id, name) VALUES (\(org), 'loc-2', 'West End branch')",
                "INSERT INTO locations (organisation_id, id, name) VALUES (\(org), 'loc-1', 'Main Street clinic')",
                // The addresses as reminder-logger's directory writer keeps them (lower-case emails, E.164).
                """
                INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id) VALUES
                    (\(org), 'email', 'ann.smith@example.org', 'client', 'c-ann'), (\(org), 'phone', '+447700900123', 'client', 'c-ann'),
                    (\(org), 'email', 'tom@example.org', 'connection', 'k-tom'), (\(org), 'phone', '+447700900456', 'connection', 'k-tom'),
                    (\(org), 'email', 'lee@clinic.example', 'staff', 's-care'), (\(org), 'extension', '201', 'staff', 's-care')
                """,
            ] {
                try await connection.query(statement, logger: database.logger)
            }
        }
    }

    static func found(_ reply: QueryAPIHarness.Reply) -> [String] {
        reply.items.map { "\($0["kind"] as? String ?? "?"):\($0["id"] as? String ?? "?")" }
    }

    @Test("names: every typed word begins a word of the name, any order and case; deleted records are not found; a rename shows at once; names that begin with the query come first")
    func names() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await Self.seed(org, database)
            let staff = try await api.token("s-other", [.staff])

            let smi = try await api.get("/v1/directory/search", token: staff, query: ["q": "smi"])
            #expect(smi.status == 200, "\(smi.detail)")
            #expect(Self.found(smi) == ["client:c-ann", "client:c-john", "connection:k-tom"])
            #expect(smi.items.allSatisfy { $0["matched"] as? String == "name" })

            let both = try await api.get("/v1/directory/search", token: staff, query: ["q": "SMITH a"])
            #expect(Self.found(both) == ["client:c-ann"])
            let reversed = try await api.get("/v1/directory/search", token: staff, query: ["q": "ann  smi"])
            #expect(Self.found(reversed) == ["client:c-ann"])
            // Words begun but not finished, out of order: no phrase of a name begins so; the words' ranges find it.
            let partial = try await api.get("/v1/directory/search", token: staff, query: ["q": "a, smi"])
            #expect(Self.found(partial) == ["client:c-ann"])

            // A name that begins with what was typed ranks above one that only has such a word.
            let tom = try await api.get("/v1/directory/search", token: staff, query: ["q": "tom"])
            #expect(Self.found(tom) == ["connection:k-tom"])
            #expect(tom.items.first?["client_id"] as? String == "c-ann")
            #expect(tom.items.first?["client_name"] as? String == "Ann Smith")
            #expect(tom.items.first?["relationship"] as? String == "spouse")

            let bella = try await api.get("/v1/directory/search", token: staff, query: ["q": "bel", "kinds": "patient"])
            #expect(Self.found(bella) == ["patient:p-bella"])
            #expect(bella.items.first?["client_name"] as? String == "Ann Smith")
            #expect(try await api.get("/v1/directory/search", token: staff, query: ["q": "rex"]).items.isEmpty, "a deleted patient")
            #expect(try await api.get("/v1/directory/search", token: staff, query: ["q": "departed"]).items.isEmpty, "a deleted client")

            let onlyStaff = try await api.get("/v1/directory/search", token: staff, query: ["q": "lee", "kinds": "staff,staff"])
            #expect(Self.found(onlyStaff) == ["staff:s-care"])
            #expect(onlyStaff.items.first?["roles"] as? [String] == ["staff"])
            #expect(onlyStaff.items.first?["extension"] as? String == "201")

            let limited = try await api.get("/v1/directory/search", token: staff, query: ["q": "smi", "limit": "2"])
            #expect(Self.found(limited) == ["client:c-ann", "client:c-john"])

            try await database.withTenant(org) { connection in
                try await connection.query("UPDATE clients SET name = 'Ann Jones' WHERE organisation_id = \(org) AND id = 'c-ann'", logger: database.logger)
                try await connection.query("UPDATE clients SET deleted_at = NULL WHERE organisation_id = \(org) AND id = 'c-gone'", logger: database.logger)
            }
            #expect(Self.found(try await api.get("/v1/directory/search", token: staff, query: ["q": "jones"])) == ["client:c-ann"])
            let after = try await api.get("/v1/directory/search", token: staff, query: ["q": "smith", "kinds": "client"])
            #expect(Self.found(after) == ["client:c-gone", "client:c-john"], "renamed away, and a restored client is found again")
            await api.stop()
        }
    }

    @Test("contact details: managers and the client's related staff find records by email and phone and see them; other staff find names only; extensions are for everyone")
    func contactDetails() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness(environment: ["COMMLOG_PHONE_REGION": "GB"])
            try await Self.seed(api.organisationID, database)
            let other = try await api.token("s-other", [.staff])
            let care = try await api.token("s-care", [.staff])
            let manager = try await api.token("m-1", [.manager])

            for (typed, expected) in [("ann.smith@ex", "client:c-ann"), ("+44 7700 900123", "client:c-ann"), ("07700 900", "client:c-ann"),
                                      ("0044 7700 900456", "connection:k-tom"), ("TOM@example", "connection:k-tom")] {
                for token in [care, manager] {
                    let reply = try await api.get("/v1/directory/search", token: token, query: ["q": typed])
                    #expect(reply.status == 200, "\(reply.detail)")
                    #expect(Self.found(reply).first == expected, "\(typed)")
                    #expect(["email", "phone"].contains(reply.items.first?["matched"] as? String ?? ""), "\(typed)")
                    #expect(reply.items.first?["emails"] is [String], "\(typed)")
                }
                #expect(try await api.get("/v1/directory/search", token: other, query: ["q": typed]).items.isEmpty, "\(typed) by an unrelated colleague")
            }

            // Names for everyone; addresses only where allowed.
            let byName = try await api.get("/v1/directory/search", token: other, query: ["q": "ann"])
            #expect(Self.found(byName) == ["client:c-ann"])
            #expect(byName.items.first?["emails"] == nil && byName.items.first?["phones"] == nil)
            let mine = try await api.get("/v1/directory/search", token: care, query: ["q": "ann"])
            #expect(mine.items.first?["emails"] as? [String] == ["ann.smith@example.org"])
            #expect(mine.items.first?["phones"] as? [String] == ["07700 900123"])

            let byExtension = try await api.get("/v1/directory/search", token: other, query: ["q": "20", "kinds": "staff"])
            #expect(Self.found(byExtension) == ["staff:s-care"])
            #expect(byExtension.items.first?["matched"] as? String == "phone")
            #expect(byExtension.items.first?["emails"] == nil, "a colleague's email is not for other staff")
            await api.stop()
        }
    }

    @Test("one client with its patients, connections and related staff; a patient with its client; contact details only where allowed; unknown and foreign ids are 404")
    func records() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            try await Self.seed(api.organisationID, database)
            let other = try await api.token("s-other", [.staff])
            let care = try await api.token("s-care", [.staff])

            let client = try await api.get("/v1/directory/clients/c-ann", token: care)
            #expect(client.status == 200, "\(client.detail)")
            #expect(client.json["name"] as? String == "Ann Smith")
            #expect(client.json["deleted"] as? Bool == false)
            #expect(client.json["emails"] as? [String] == ["ann.smith@example.org"])
            #expect((client.json["patients"] as? [[String: Any]])?.map { $0["id"] as? String } == ["p-bella"])
            let connections = client.json["connections"] as? [[String: Any]] ?? []
            #expect(connections.map { $0["name"] as? String } == ["Tom Smith"])
            #expect(connections.first?["relationship"] as? String == "spouse")
            #expect(connections.first?["phones"] as? [String] == ["+447700900456"])
            #expect((client.json["related_staff"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Dr Priya Lee"])

            let seenByOther = try await api.get("/v1/directory/clients/c-ann", token: other)
            #expect(seenByOther.status == 200)
            #expect(seenByOther.json["emails"] == nil && seenByOther.json["phones"] == nil)
            #expect((seenByOther.json["connections"] as? [[String: Any]])?.first?["emails"] == nil)

            let gone = try await api.get("/v1/directory/clients/c-gone", token: other)
            #expect(gone.status == 200 && gone.json["deleted"] as? Bool == true)
            #expect(try await api.get("/v1/directory/clients/c-404", token: other).status == 404)

            let patient = try await api.get("/v1/directory/patients/p-bella", token: other)
            #expect(patient.status == 200, "\(patient.detail)")
            #expect(patient.json["client_id"] as? String == "c-ann" && patient.json["client_name"] as? String == "Ann Smith")
            #expect(try await api.get("/v1/directory/patients/p-404", token: other).status == 404)

            // Another organisation's staff see nothing of this one.
            let stranger = try await api.token("s-other", [.admin], organisation: TestEnvironment.unique("org-elsewhere"))
            #expect(try await api.get("/v1/directory/clients/c-ann", token: stranger).status == 404)
            #expect(try await api.get("/v1/directory/search", token: stranger, query: ["q": "ann"]).items.isEmpty)
            #expect(try await api.get("/v1/directory/staff", token: stranger).items.isEmpty)
            await api.stop()
        }
    }

    @Test("locations and staff by name; a staff member's email and phones for themselves, managers and admins only")
    func lists() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            try await Self.seed(api.organisationID, database)
            let locations = try await api.get("/v1/directory/locations", token: try await api.token("s-other", [.staff]))
            #expect(locations.status == 200, "\(locations.detail)")
            #expect(locations.items.map { $0["name"] as? String } == ["Main Street clinic", "West End branch"])

            for (caller, roles, seesEmail) in [("s-other", [StaffRole.staff], false), ("s-care", [.staff], true), ("a-1", [.admin], true)] {
                let staff = try await api.get("/v1/directory/staff", token: try await api.token(caller, roles))
                #expect(staff.ids == ["s-care", "s-other"])
                let lee = try #require(staff.items.first)
                #expect(lee["name"] as? String == "Dr Priya Lee" && lee["extension"] as? String == "201")
                #expect((lee["email"] as? String == "lee@clinic.example") == seesEmail, "\(caller)")
                #expect((lee["phones"] as? [String] == ["+442070000001"]) == seesEmail, "\(caller)")
            }
            await api.stop()
        }
    }

    @Test("bad look-ups are 400 problems that say what was wrong; no token is a 401")
    func badInput() async throws {
        try await TestEnvironment.withDatabase { _ in
            let api = try await QueryAPIHarness()
            let staff = try await api.token("s-1", [.staff])
            for (query, words) in [
                (["q": "  -- "], "letters or digits"), (["q": ""], "q"), (["q": String(repeating: "a", count: 101)], "q"),
                (["q": "ann", "kinds": "client,pet"], "kinds"), (["q": "ann", "kinds": ""], "kinds"),
                (["q": "ann", "limit": "0"], "limit"), (["q": "ann", "limit": "51"], "limit"), (["q": "a\u{0}b"], "NUL"),
            ] {
                let reply = try await api.get("/v1/directory/search", token: staff, query: query)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.headers["content-type"]?.hasPrefix("application/problem+json") == true)
                #expect(reply.detail.contains(words), "\(query): \(reply.detail)")
            }
            #expect(try await api.get("/v1/directory/search", token: staff).status == 400, "q is required")
            #expect(try await api.get("/v1/directory/search", query: ["q": "ann"]).status == 401)
            #expect(try await api.get("/v1/directory/staff").status == 401)
            await api.stop()
        }
    }
}

/// What typed text is looked up as, without a database.
@Suite("query-api: directory query")
struct DirectoryQueryTests {
    @Test("words are lower-case runs of letters and digits; an address needs three characters")
    func words() {
        let query = DirectoryQuery("  O'Brien, ZOË  ", region: nil)
        #expect(query.words == ["o", "brien", "zoë"])
        #expect(query.emailPrefix == nil, "it has a space")
        #expect(query.phonePrefixes.isEmpty)
        #expect(DirectoryQuery("an", region: nil).emailPrefix == nil)
        #expect(DirectoryQuery("Ann.S@", region: nil).emailPrefix == "ann.s@")
        #expect(DirectoryQuery(" ,;- ", region: nil).isEmpty)
    }

    @Test("phone numbers: international as written, 00 read as +, national ones with the region's country code in place of its trunk prefix")
    func phones() {
        #expect(DirectoryQuery("+44 (0)7700", region: "GB").phonePrefixes == ["+447700"])
        #expect(DirectoryQuery("0044 7700-9", region: nil).phonePrefixes == ["+4477009"])
        #expect(DirectoryQuery("07700 900", region: "GB").phonePrefixes == ["+07700900", "07700900", "+447700900"])
        #expect(DirectoryQuery("0412 345", region: "AU").phonePrefixes.last == "+61412345")
        #expect(DirectoryQuery("07700 900", region: nil).phonePrefixes == ["+07700900", "07700900"])
        #expect(DirectoryQuery("20", region: "GB").phonePrefixes.isEmpty, "too short for a number")
        #expect(DirectoryQuery("20", region: "GB").extensionPrefix == "20")
        #expect(DirectoryQuery("tom 12", region: "GB").extensionPrefix == nil)
    }
}
