import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

@Suite("Migrations")
struct MigrationTests {
    @Test("migrations run twice and concurrently without error")
    func concurrentAndRepeated() async throws {
        let owner = try TestEnvironment.databaseConfiguration(owner: true)
        try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask { try await Migrator.run(configuration: owner, logger: TestEnvironment.logger) }
            }
            var appliedNow: [Int] = []
            for try await applied in group { appliedNow += applied }
            // Whatever was missing was applied by exactly one of them.
            #expect(Set(appliedNow).count == appliedNow.count)
        }
        #expect(try await Migrator.run(configuration: owner, logger: TestEnvironment.logger).isEmpty)
        let versions = try await TestEnvironment.withDatabase(owner: true) { database in
            var versions: [Int] = []
            for try await version in try await database.client.query("SELECT version FROM schema_migrations ORDER BY version", logger: database.logger).decode(Int.self) {
                versions.append(version)
            }
            return versions
        }
        #expect(versions == (try Migration.bundled().map(\.version)))
    }

    @Test("four replicas starting together on an empty database apply every migration exactly once")
    func concurrentFromScratch() async throws {
        let owner = try TestEnvironment.databaseConfiguration(owner: true)
        let scratch = "commlog_scratch_\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.withDatabase(owner: true) { database in
            try await database.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(scratch)"), logger: database.logger)
        }
        let configuration = { var configuration = owner; configuration.database = scratch; return configuration }()
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for replica in 1...4 {
                group.addTask { [configuration] in
                    do {
                        return try await Migrator.run(configuration: configuration, logger: TestEnvironment.logger)
                    } catch {
                        // PSQLError's description hides the server's message; this test failed once that way.
                        Issue.record("replica \(replica): \(String(reflecting: error))")
                        throw error
                    }
                }
            }
            var applied: [Int] = []
            for try await versions in group { applied += versions }
            return applied
        }
        #expect(applied.sorted() == (try Migration.bundled().map(\.version)))
        try await TestEnvironment.withDatabase(owner: true) { database in
            try await database.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(scratch) WITH (FORCE)"), logger: database.logger)
        }
    }

    @Test("a migration changed after it was applied stops the run with a clear error")
    func changedMigration() async throws {
        try await TestEnvironment.withDatabase(owner: true) { database in
            let changed = Migration(version: 1, name: "schema", sql: "SELECT 1")
            let error = await #expect(throws: DatabaseError.self) {
                try await Migrator(client: database.client, logger: database.logger).migrate([changed])
            }
            #expect(error?.code == .migration)
            #expect(error?.description.contains("was changed after it was applied") == true)
        }
    }

    @Test("large values are stored compressed with lz4 (this PostgreSQL has it), and read back whole")
    func lz4Compression() async throws {
        let organisation = TestEnvironment.unique("org-lz4")
        try await TestEnvironment.withDatabase { database in
            let logger = database.logger
            let settings = try await database.withTransaction { connection in
                try await connection.query("""
                    SELECT attrelid::regclass::text || '.' || attname::text, attcompression::text FROM pg_attribute
                    WHERE (attrelid, attname) IN (('contents'::regclass, 'raw'), ('contents'::regclass, 'html'),
                        ('attachments'::regclass, 'content'), ('communications'::regclass, 'content'), ('communications'::regclass, 'search'))
                    """, logger: logger).decode((String, String).self).all()
            }
            #expect(Dictionary(uniqueKeysWithValues: settings) == [
                "contents.raw": "l", "contents.html": "l", "attachments.content": "l", "communications.content": "l", "communications.search": "l",
            ])
            // A raw message of 200 KB of base64 lines, as mail's attachments are.
            let raw = Array((0..<4_000).map { "TWFpbCBmcm9tIHRoZSBwcmFjdGljZSwgbGluZSBudW1iZXIg\($0 % 97)\r\n" }.joined().utf8)
            let (method, back) = try await database.withTenant(organisation) { connection in
                let id = try await connection.query("""
                    INSERT INTO communications (organisation_id, type, occurred_at, subject, source, source_ref)
                    VALUES (\(organisation), 'email', now(), 'lz4', 'mailbox', 'lz4') RETURNING id
                    """, logger: logger).decode(UUID.self).all()[0]
                try await connection.query("INSERT INTO contents (organisation_id, communication_id, raw) VALUES (\(organisation), \(id), \(ByteBuffer(bytes: raw)))", logger: logger)
                return try await connection.query(
                    "SELECT pg_column_compression(raw), raw FROM contents WHERE communication_id = \(id)", logger: logger
                ).decode((String?, ByteBuffer).self).all()[0]
            }
            #expect(method == "lz4")
            #expect(Array(back.readableBytesView) == raw)
        }
    }

    @Test("the bundled migrations are numbered without gaps")
    func numbering() throws {
        let versions = try Migration.bundled().map(\.version)
        #expect(versions == Array(1...versions.count))
    }
}
