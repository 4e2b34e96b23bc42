import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// The second wall between organisations: even a query that forgets its organisation filter sees only the
/// organisation of the transaction, because the application role cannot bypass row-level security.
@Suite("Row-level security")
struct RowLevelSecurityTests {
    static func count(_ table: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var total = 0
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)"), logger: logger).decode(Int.self) {
            total = value
        }
        return total
    }

    /// A manual note of `organisation`, written in its own tenant transaction.
    static func insertNote(subject: String, at: Date, of organisation: String, in database: Database) async throws {
        try await database.withTenant(organisation) { connection in
            try await connection.query("""
                INSERT INTO communications (organisation_id, type, occurred_at, subject, source, source_ref)
                VALUES (\(organisation), 'note', \(at), \(subject), 'manual', \(UUID().uuidString))
                """, logger: database.logger)
        }
    }

    @Test("functions that run as their owner put pg_temp last: a caller's temporary table cannot stand in for ours")
    func securityDefinerSearchPath() async throws {
        try await TestEnvironment.withDatabase { database in
            var functions: [String] = []
            for try await (name, settings) in try await database.client.query("""
                SELECT proname::text, coalesce(array_to_string(proconfig, ';'), '') FROM pg_proc
                WHERE prosecdef AND pronamespace = 'public'::regnamespace
                """, logger: database.logger).decode((String, String).self) {
                functions.append(name)
                #expect(settings.contains("search_path=pg_catalog, public, pg_temp"), "\(name): \(settings)")
            }
            #expect(functions.count >= 4)
            // As the application role: a temporary `mailboxes` that the function would read if pg_temp came first.
            let shadowed = try await database.withTransaction { connection in
                try await connection.query("CREATE TEMP TABLE mailboxes (organisation_id text) ON COMMIT DROP", logger: database.logger)
                try await connection.query("INSERT INTO pg_temp.mailboxes VALUES ('org-shadow')", logger: database.logger)
                var organisations: [String] = []
                for try await organisation in try await connection.query("SELECT * FROM commlog_mailbox_organisations()", logger: database.logger).decode(String.self) {
                    organisations.append(organisation)
                }
                return organisations.contains("org-shadow")
            }
            #expect(!shadowed)
        }
    }

    @Test("the application role is neither the owner nor able to bypass row-level security")
    func roleAttributes() async throws {
        try await TestEnvironment.withDatabase { database in
            let rows = try await database.client.query("""
                SELECT r.rolsuper, r.rolbypassrls, (SELECT tableowner FROM pg_tables WHERE tablename = 'communications') = current_user
                FROM pg_roles r WHERE r.rolname = current_user
                """, logger: database.logger)
            for try await (isSuper, bypasses, owns) in rows.decode((Bool, Bool, Bool).self) {
                #expect(!isSuper)
                #expect(!bypasses)
                #expect(!owns)
            }
        }
    }

    @Test("organisation B cannot read, change or delete organisation A's rows, even without a filter")
    func isolation() async throws {
        let orgA = TestEnvironment.unique("org-a"), orgB = TestEnvironment.unique("org-b")
        try await TestEnvironment.withDatabase { database in
            let logger = database.logger
            try await database.withTenant(orgA) { connection in
                try await connection.query("INSERT INTO organisations (id, name) VALUES (\(orgA), 'A')", logger: logger)
                try await connection.query("INSERT INTO clients (organisation_id, id, name) VALUES (\(orgA), 'c-1', 'Ann')", logger: logger)
                try await connection.query("""
                    INSERT INTO communications (organisation_id, type, direction, occurred_at, client_id, source, source_ref, subject)
                    VALUES (\(orgA), 'sms', 'outbound', now(), 'c-1', 'practice', 'evt-1', 'secret')
                    """, logger: logger)
            }
            try await database.withTenant(orgB) { connection in
                try await connection.query("INSERT INTO organisations (id, name) VALUES (\(orgB), 'B')", logger: logger)
                // Queries that forget the organisation see nothing of A.
                for try await _ in try await connection.query("SELECT id FROM clients WHERE id = 'c-1'", logger: logger) {
                    Issue.record("organisation B read organisation A's client")
                }
                for try await _ in try await connection.query("SELECT id FROM communications WHERE subject = 'secret'", logger: logger) {
                    Issue.record("organisation B read organisation A's communication")
                }
                for try await organisation in try await connection.query("SELECT id FROM organisations", logger: logger).decode(String.self) {
                    #expect(organisation == orgB)
                }
                // Updates and deletes of A's rows touch nothing.
                try await connection.query("UPDATE clients SET name = 'Mallory' WHERE id = 'c-1'", logger: logger)
                try await connection.query("DELETE FROM communications WHERE subject = 'secret'", logger: logger)
            }
            // Writing a row for A while acting for B is refused.
            let forged = await #expect(throws: PSQLError.self) {
                try await database.withTenant(orgB) { connection in
                    try await connection.query("INSERT INTO clients (organisation_id, id, name) VALUES (\(orgA), 'c-2', 'Forged')", logger: logger)
                }
            }
            #expect(forged?.serverInfo?[.sqlState] == "42501")
            // A's data is intact.
            try await database.withTenant(orgA) { connection in
                for try await name in try await connection.query("SELECT name FROM clients WHERE id = 'c-1'", logger: logger).decode(String.self) {
                    #expect(name == "Ann")
                }
                #expect(try await Self.count("communications", on: connection, logger: logger) == 1)
                #expect(try await Self.count("clients", on: connection, logger: logger) == 1)
            }
        }
    }

    @Test("the full-text search function (which reads the index as the owner) returns only the transaction's organisation")
    func searchFunction() async throws {
        let orgA = TestEnvironment.unique("org-a"), orgB = TestEnvironment.unique("org-b")
        let word = "zebra\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.withDatabase { database in
            let logger = database.logger
            for organisation in [orgA, orgB] { try await Self.insertNote(subject: word, at: Date(), of: organisation, in: database) }
            func matches(_ organisation: String?, probe: Int?) async throws -> [UUID] {
                let statement: PostgresQuery = "SELECT commlog_search_newest(to_tsquery('simple', \(word)), 'infinity', \(probe)::int)"
                if let organisation {
                    return try await database.withTenant(organisation) { connection in
                        try await connection.query(statement, logger: logger).decode(UUID.self).all()
                    }
                }
                return try await database.withTransaction { connection in
                    try await connection.query(statement, logger: logger).decode(UUID.self).all()
                }
            }
            for probe in [nil, 1, 10] {
                #expect(try await matches(orgA, probe: probe).count == 1)
                #expect(try await matches(orgB, probe: probe).count == 1)
                #expect(try await matches(orgA, probe: probe) != matches(orgB, probe: probe))
                #expect(try await matches(nil, probe: probe).isEmpty, "no organisation, nothing found")
            }
        }
    }

    @Test("the search function keeps the newest matches at or before a time, and every match at the oldest kept time")
    func searchFunctionNewest() async throws {
        let organisation = TestEnvironment.unique("org-n")
        let word = "heron\(UUID().uuidString.prefix(8).lowercased())"
        let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 10_000).rounded())
        try await TestEnvironment.withDatabase { database in
            let logger = database.logger
            // Seconds 0 to 9, one each, and five more at second 5; an entry without the word at second 10; one at
            // second 11 that is deleted.
            for second in Array(0..<10) + Array(repeating: 5, count: 5) {
                try await Self.insertNote(subject: "\(word) \(second)", at: base.addingTimeInterval(Double(second)), of: organisation, in: database)
            }
            try await Self.insertNote(subject: "nothing", at: base.addingTimeInterval(10), of: organisation, in: database)
            try await Self.insertNote(subject: "\(word) deleted", at: base.addingTimeInterval(11), of: organisation, in: database)
            try await database.withTenant(organisation) { connection in
                try await connection.query("UPDATE communications SET deleted_at = now() WHERE subject = \(word + " deleted")", logger: logger)
            }
            func seconds(before: Int?, probe: Int?) async throws -> [Int] {
                try await database.withTenant(organisation) { connection in
                    let before = before.map { base.addingTimeInterval(Double($0)) } ?? .distantFuture
                    return try await connection.query("""
                        SELECT extract(epoch FROM c.occurred_at - \(base))::int FROM communications c
                        WHERE c.id IN (SELECT commlog_search_newest(to_tsquery('simple', \(word)), \(before), \(probe)::int))
                        """, logger: logger).decode(Int.self).all().sorted(by: >)
                }
            }
            #expect(try await seconds(before: nil, probe: nil) == [9, 8, 7, 6] + Array(repeating: 5, count: 6) + [4, 3, 2, 1, 0])
            #expect(try await seconds(before: nil, probe: 3) == [9, 8, 7])
            // The fifth newest is at second 5, with five more: all six come, so that a page cut there is whole.
            #expect(try await seconds(before: nil, probe: 5) == [9, 8, 7, 6] + Array(repeating: 5, count: 6))
            #expect(try await seconds(before: 5, probe: 2) == Array(repeating: 5, count: 6))
            #expect(try await seconds(before: 4, probe: 2) == [4, 3])
            #expect(try await seconds(before: 4, probe: nil) == [4, 3, 2, 1, 0])
            #expect(try await seconds(before: 4, probe: 100) == [4, 3, 2, 1, 0], "fewer matches than the probe: all of them")
        }
    }

    @Test("without an organisation a transaction sees no tenant rows at all")
    func noTenant() async throws {
        let org = TestEnvironment.unique("org-c")
        try await TestEnvironment.withDatabase { database in
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO clients (organisation_id, id, name) VALUES (\(org), 'c-1', 'Cat')", logger: database.logger)
            }
            let visible = try await database.withTransaction { connection in
                try await (Self.count("clients", on: connection, logger: database.logger), Self.count("organisations", on: connection, logger: database.logger))
            }
            #expect(visible == (0, 0))
            // Turning row security off does not help the application role: the query is refused instead.
            let refused = await #expect(throws: PSQLError.self) {
                try await database.withTransaction { connection in
                    try await connection.query("SET LOCAL row_security = off", logger: database.logger)
                    _ = try await Self.count("clients", on: connection, logger: database.logger)
                }
            }
            #expect(refused?.serverInfo?[.sqlState] == "42501")
        }
    }

    @Test("every standard reason is visible to every organisation, and none can be changed by one")
    func standardReasons() async throws {
        let org = TestEnvironment.unique("org-r")
        try await TestEnvironment.withDatabase { database in
            try await database.withTenant(org) { connection in
                var codes: [String] = []
                for try await code in try await connection.query("SELECT code FROM reasons ORDER BY code", logger: database.logger).decode(String.self) {
                    codes.append(code)
                }
                #expect(codes == ["AD_HOC_EMAIL", "AD_HOC_SMS", "APPOINTMENT_REMINDER", "FORWARDED_DOCUMENT", "PATIENT_REMINDER"])
                try await connection.query("DELETE FROM reasons", logger: database.logger)
                try await connection.query("INSERT INTO reasons (organisation_id, code, name) VALUES (\(org), 'GROOMING', 'Grooming')", logger: database.logger)
            }
            let reasons = try await database.withTenant(TestEnvironment.unique("org-s")) { connection in
                try await Self.count("reasons", on: connection, logger: database.logger)
            }
            #expect(reasons == 5)
        }
    }

    @Test("a tenant read sees only its organisation, binds its values outside the text, ends with its statement and cannot write")
    func tenantRead() async throws {
        let orgA = TestEnvironment.unique("org-a"), orgB = TestEnvironment.unique("org-b")
        let quote = "it's \"quoted\" $1 ; --"
        let at = Date(timeIntervalSince1970: 1_795_599_000.123_456)
        try await TestEnvironment.withDatabase { database in
            let logger = database.logger
            for organisation in [orgA, orgB] { try await Self.insertNote(subject: quote, at: at, of: organisation, in: database) }
            /// The subjects `organisation` reads with a statement that forgets the organisation; values of every kind bound.
            func subjects(_ organisation: String) async throws -> [String] {
                var read = TenantRead(organisationID: organisation)
                let statement = """
                    SELECT subject, id FROM communications
                    WHERE subject = \(read.bind(quote)) AND occurred_at = \(read.bind(at)) AND id <> \(read.bind(UUID()))
                    LIMIT \(read.bind(10))
                    """
                return try await database.client.query(read.query(statement, columns: "subject text, id uuid"), logger: logger)
                    .decode((String, UUID).self).all().map(\.0)
            }
            #expect(try await subjects(orgA) == [quote])
            #expect(try await subjects(orgB) == [quote])
            #expect(try await subjects(TestEnvironment.unique("org-c")).isEmpty)

            try await database.client.withConnection { (connection: PostgresConnection) async throws in
                var read = TenantRead(organisationID: orgA)
                let statement = "SELECT count(*) FROM communications WHERE subject = \(read.bind(quote))"
                #expect(try await connection.query(read.query(statement, columns: "count bigint"), logger: logger).decode(Int.self).all() == [1])
                // The next statement on the same connection is outside any organisation again.
                #expect(try await connection.query("SELECT count(*) FROM communications", logger: logger).decode(Int.self).all() == [0])
                #expect(try await connection.query("SELECT commlog_current_organisation()", logger: logger).decode(String?.self).all() == [nil])

                // It only reads, and it needs an organisation.
                var write = TenantRead(organisationID: orgA)
                let delete = "DELETE FROM communications WHERE subject = \(write.bind(quote)) RETURNING id"
                let refused = await #expect(throws: PSQLError.self) {
                    try await connection.query(write.query(delete, columns: "id uuid"), logger: logger).decode(UUID.self).all()
                }
                #expect(refused?.serverInfo?[.message] == "DELETE is not allowed in a non-volatile function")
                let nobody = TenantRead(organisationID: "")
                let anonymous = await #expect(throws: PSQLError.self) {
                    try await connection.query(nobody.query("SELECT 1", columns: "one integer"), logger: logger).decode(Int.self).all()
                }
                #expect(anonymous?.serverInfo?[.message] == "commlog_read: no organisation given")
            }
            #expect(try await subjects(orgA) == [quote], "the delete changed nothing")
        }
    }
}
