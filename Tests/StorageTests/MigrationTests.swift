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
            for _ in 0..<4 {
                group.addTask { [configuration] in try await Migrator.run(configuration: configuration, logger: TestEnvironment.logger) }
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

    @Test("the bundled migrations are numbered without gaps")
    func numbering() throws {
        let versions = try Migration.bundled().map(\.version)
        #expect(versions == Array(1...versions.count))
    }
}
