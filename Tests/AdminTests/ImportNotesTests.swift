@testable import Admin
import CommlogDomain
import Foundation
import Logging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// `commlog import notes` as a practice runs it: the built command against the real PostgreSQL.
@Suite("ImportNotes: the command")
struct ImportNotesTests {
    struct Entry: Sendable, Equatable {
        let sourceRef: String
        let type: String
        let direction: String?
        let occurredAt: Date
        let clientID: String?
        let patientID: String?
        let authorStaffID: String?
        let locationID: String?
        let reason: String?
        let description: String?
    }

    static let logger = TestEnvironment.logger

    /// A new organisation in `timezone` with a staff member, a client and its patient.
    static func organisation(_ database: Database, timezone: String = "Australia/Sydney") async throws -> String {
        let org = TestEnvironment.unique("org-import")
        try await database.withTenant(org) { connection in
            for statement: PostgresQuery in [
                "INSERT INTO organisations (id, name, timezone) VALUES (\(org), 'Riverside Vets', \(timezone))",
                "INSERT INTO staff (organisation_id, id, name) VALUES (\(org), 's-7', 'Dr Lee')",
                "INSERT INTO clients (organisation_id, id, name) VALUES (\(org), 'c-1', 'Ann Smith')",
                "INSERT INTO patients (organisation_id, id, client_id, name) VALUES (\(org), 'p-1', 'c-1', 'Bella')",
            ] {
                try await connection.query(statement, logger: logger)
            }
        }
        return org
    }

    static func entries(_ database: Database, _ org: String) async throws -> [Entry] {
        try await database.withTenant(org) { connection in
            var entries: [Entry] = []
            for try await row in try await connection.query("""
                SELECT source_ref, type, direction, occurred_at, client_id, patient_id, author_staff_id, location_id, reason, description
                FROM communications WHERE source = 'import' ORDER BY source_ref
                """, logger: logger).decode((String, String, String?, Date, String?, String?, String?, String?, String?, String?).self) {
                entries.append(Entry(sourceRef: row.0, type: row.1, direction: row.2, occurredAt: row.3, clientID: row.4, patientID: row.5,
                                     authorStaffID: row.6, locationID: row.7, reason: row.8, description: row.9))
            }
            return entries
        }
    }

    static func count(_ database: Database, _ org: String) async throws -> (entries: Int, distinct: Int) {
        try await database.withTenant(org) { connection in
            for try await counts in try await connection.query(
                "SELECT count(*)::int, count(DISTINCT source_ref)::int FROM communications WHERE source = 'import'", logger: logger
            ).decode((Int, Int).self) { return counts }
            return (0, 0)
        }
    }

    static func reasons(_ database: Database, _ org: String) async throws -> [String: String] {
        try await database.withTenant(org) { connection in
            var reasons: [String: String] = [:]
            for try await (code, name) in try await connection.query(
                "SELECT code, name FROM reasons WHERE organisation_id = \(org)", logger: logger
            ).decode((String, String).self) { reasons[code] = name }
            return reasons
        }
    }



    static let sample = """
        legacy_id,occurred_at,client_id,patient_id,category,text,author_staff_id,location_id
        1001,2019-07-04 10:15:00,c-1,p-1,Surgery follow-up,"Called after the spay: eating, no swelling.",s-7,loc-1
        1002,2019-03-04T10:15:00+10:00,c-1,,Grooming,"Asked about ""the usual"" trim
        booked for Friday",,
        1003,2019-07-05T09:00:00Z,c-late,,Ad-hoc SMS,Texted the new client,s-7,
        1004,2019-07-06 08:30,c-1,,,No category at all,,

        """

    @Test("a sample export: categories become reasons, times (one without an offset, in the organisation's zone), authors, patients; an unknown client's note is filed when the client arrives")
    func sampleExport() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = try await Self.organisation(database)
            let path = try temporaryFile("notes.csv", Self.sample)
            let (status, output) = try await commlogCommand(["import", "notes", "--org", org, path])
            #expect(status == 0, "\(output)")
            #expect(output.contains("4 notes added"), "\(output)")

            let entries = try await Self.entries(database, org)
            #expect(entries.count == 4)
            #expect(entries.allSatisfy { $0.type == "note" && $0.direction == nil })
            #expect(entries[0] == Entry(sourceRef: "import:1001", type: "note", direction: nil, occurredAt: utc("2019-07-04T00:15:00Z"), clientID: "c-1",
                                        patientID: "p-1", authorStaffID: "s-7", locationID: "loc-1", reason: "SURGERY_FOLLOW_UP",
                                        description: "Called after the spay: eating, no swelling."))
            #expect(entries[1].occurredAt == utc("2019-03-04T00:15:00Z"))
            #expect(entries[1].description == "Asked about \"the usual\" trim\nbooked for Friday")
            #expect(entries[1].authorStaffID == nil && entries[1].patientID == nil && entries[1].reason == "GROOMING")
            // A standard code is reused, not duplicated; a row without a category has no reason.
            #expect(entries[2].reason == "AD_HOC_SMS" && entries[2].clientID == "c-late")
            #expect(entries[3].reason == nil && entries[3].occurredAt == utc("2019-07-05T22:30:00Z"))
            #expect(try await Self.reasons(database, org) == ["SURGERY_FOLLOW_UP": "Surgery follow-up", "GROOMING": "Grooming"])

            // The client arrives: its timeline (the query timelines run, by client id) has the note, with the client's name.
            let before = try await Self.timeline(database, org, client: "c-late")
            #expect(before == [.init(sourceRef: "import:1003", clientName: nil)])
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO clients (organisation_id, id, name) VALUES (\(org), 'c-late', 'Late Client')", logger: Self.logger)
            }
            let after = try await Self.timeline(database, org, client: "c-late")
            #expect(after == [.init(sourceRef: "import:1003", clientName: "Late Client")])
        }
    }

    struct TimelineRow: Sendable, Equatable {
        let sourceRef: String
        let clientName: String?
    }

    static func timeline(_ database: Database, _ org: String, client: String) async throws -> [TimelineRow] {
        try await database.withTenant(org) { connection in
            var rows: [TimelineRow] = []
            for try await (ref, name) in try await connection.query("""
                SELECT c.source_ref, k.name FROM communications c
                LEFT JOIN clients k ON k.organisation_id = c.organisation_id AND k.id = c.client_id
                WHERE c.organisation_id = \(org) AND c.client_id = \(client) AND c.deleted_at IS NULL
                ORDER BY c.occurred_at DESC, c.id DESC
                """, logger: logger).decode((String, String?).self) {
                rows.append(TimelineRow(sourceRef: ref, clientName: name))
            }
            return rows
        }
    }

    @Test("the same file again adds nothing; --dry-run writes nothing, not even reasons")
    func idempotentAndDryRun() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = try await Self.organisation(database)
            let path = try temporaryFile("notes.csv", Self.sample)
            let dry = try await commlogCommand(["import", "notes", "--org", org, "--dry-run", path])
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.output.contains("dry run: 4 notes can be imported"), "\(dry.output)")
            #expect(dry.output.contains("reasons: 2 to add"), "\(dry.output)")
            #expect(try await Self.count(database, org).entries == 0)
            #expect(try await Self.reasons(database, org).isEmpty)

            let first = try await commlogCommand(["import", "notes", "--org", org, path])
            #expect(first.status == 0 && first.output.contains("4 notes added"), "\(first.output)")
            let entries = try await Self.entries(database, org)
            let second = try await commlogCommand(["import", "notes", "--org", org, path])
            #expect(second.status == 0, "\(second.output)")
            #expect(second.output.contains("0 notes added, 4 imported before"), "\(second.output)")
            #expect(try await Self.entries(database, org) == entries)
            #expect(try await Self.reasons(database, org).count == 2)
        }
    }

    @Test("bad rows are reported with their line numbers and reasons, the rest go in; nothing to do is a failure")
    func badRows() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = try await Self.organisation(database, timezone: "Europe/London")
            let long = String(repeating: "x", count: 100_001)
            let path = try temporaryFile("notes.csv", """
                legacy_id,occurred_at,client_id,category,text
                1,2020-01-02 09:00,c-1,Phone,"first line
                second line"
                2,,c-1,Phone,no date
                3,02/01/2020,c-1,Phone,unreadable date
                ,2020-01-02 09:00,c-1,Phone,no id
                4,2020-01-02 09:00,,Phone,no client
                1,2020-01-02 09:00,c-1,Phone,repeated id
                5,2020-01-02 09:00,c-1,Phone,"\(long)"
                6,2020-01-02 09:00,c-1,Phone,"nul \u{0} inside"
                7,2020-06-02 09:00,c-1,Phone,fine

                """)
            let (status, output) = try await commlogCommand(["import", "notes", "--org", org, path])
            #expect(status == 0, "\(output)")
            for expected in [
                "line 4: no occurred_at", "line 5: occurred_at \"02/01/2020\" is not an ISO 8601", "line 6: no legacy_id", "line 7: no client_id",
                "line 8: legacy_id \"1\" was already on line 2", "line 9: text has 100001 characters", "line 10: text holds a NUL character",
                "2 notes added", "7 bad rows skipped",
            ] {
                #expect(output.contains(expected), "\(expected) in \(output)")
            }
            let entries = try await Self.entries(database, org)
            #expect(entries.map(\.sourceRef) == ["import:1", "import:7"])
            // London: GMT in January, BST (+1) in June.
            #expect(entries.map(\.occurredAt) == [utc("2020-01-02T09:00:00Z"), utc("2020-06-02T08:00:00Z")])

            let unknown = try await commlogCommand(["import", "notes", "--org", TestEnvironment.unique("org-nobody"), path])
            #expect(unknown.status == 1 && unknown.output.contains("is not in the directory"), "\(unknown.output)")
            let missing = try await commlogCommand(["import", "notes", "--org", org, "/nonexistent/notes.csv"])
            #expect(missing.status == 1 && missing.output.contains("cannot open"), "\(missing.output)")
            let allBad = try await commlogCommand(["import", "notes", "--org", org, try temporaryFile("bad.csv", "legacy_id,occurred_at,client_id\n9,,c-1\n")])
            #expect(allBad.status == 1 && allBad.output.contains("no row of the file could be imported"), "\(allBad.output)")
        }
    }

    @Test("JSON Lines, as a SQL export writes them (numeric ids, nulls)")
    func jsonLines() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = try await Self.organisation(database)
            let path = try temporaryFile("notes.jsonl", """
                {"legacy_id": 31, "occurred_at": "2018-11-02T16:45:00", "client_id": "c-1", "patient_id": null, "category": "Billing", "text": "Queried the invoice,\\nsent a copy", "author_staff_id": "s-7", "location_id": null}
                {"legacy_id": 32, "occurred_at": "2018-11-03T08:00:00+11:00", "client_id": "c-1", "category": "Billing", "text": "Paid at C:\\\\till\\tin cash"}
                not json

                """)
            let (status, output) = try await commlogCommand(["import", "notes", "--org", org, path])
            #expect(status == 0, "\(output)")
            #expect(output.contains("line 3: not a JSON object"), "\(output)")
            let entries = try await Self.entries(database, org)
            #expect(entries.map(\.sourceRef) == ["import:31", "import:32"])
            #expect(entries[0].description == "Queried the invoice,\nsent a copy" && entries[0].authorStaffID == "s-7" && entries[0].reason == "BILLING")
            #expect(entries[0].occurredAt == utc("2018-11-02T05:45:00Z"))
            #expect(entries[1].occurredAt == utc("2018-11-02T21:00:00Z"))
            #expect(entries[1].description == "Paid at C:\\till\tin cash")
        }
    }

    @Test("a run killed mid-file and run again imports every row once")
    func resumeAfterKill() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = try await Self.organisation(database)
            let rows = 150_000
            var text = "legacy_id,occurred_at,client_id,category,text\n"
            text.reserveCapacity(rows * 80)
            for index in 0..<rows {
                text += "n-\(index),2017-05-\(10 + index % 18) 09:\(10 + index % 50):00,c-\(index % 1_000),Category \(index % 7),\"Note \(index), with a comma\"\n"
            }
            let path = try temporaryFile("many.csv", text)
            let bin = try TestEnvironment.variable("COMMLOG_BIN")
            let log = NSTemporaryDirectory() + "import-\(UUID().uuidString).log"
            let process = try ChildProcess(
                executable: "\(bin)/commlog", arguments: ["import", "notes", "--org", org, "--batch-size", "1000", path],
                environment: ProcessInfo.processInfo.environment, outputPath: log
            )
            try await waitUntil("some batches committed", timeout: .seconds(120), every: .milliseconds(20)) {
                try await Self.count(database, org).entries >= 3_000
            }
            process.signal(SIGKILL)
            _ = await process.wait()
            let killedAt = try await Self.count(database, org).entries
            #expect(killedAt < rows, "the run finished before it could be killed: make the file larger")

            let (status, output) = try await commlogCommand(["import", "notes", "--org", org, path])
            #expect(status == 0, "\(output)")
            #expect(output.contains("\(ImportProgress.grouped(rows - killedAt)) notes added"), "\(output)")
            let (entries, distinct) = try await Self.count(database, org)
            #expect(entries == rows && distinct == rows)
            #expect(try await Self.reasons(database, org).count == 7)
        }
    }
}
