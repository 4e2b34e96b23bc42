import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Errors the real PostgreSQL raises, as the consumers classify and describe them.
@Suite("PostgreSQL failures")
struct PostgresFailureTests {
    /// The error `sql` raises on the real server.
    static func error(of sql: String) async throws -> any Error {
        try await TestEnvironment.withDatabase { database in
            do {
                try await database.client.query(PostgresQuery(unsafeSQL: sql), logger: database.logger)
            } catch {
                return error
            }
            Issue.record("\(sql) did not fail")
            return CancellationError()
        }
    }

    @Test("class 53 (disk full) is transient and resource exhaustion; the description names it without postgres-nio's generic text")
    func diskFull() async throws {
        let error = try await Self.error(of: "DO $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$")
        #expect(PostgresFailure.isTransient(error))
        #expect(PostgresFailure.isResourceExhaustion(error))
        #expect(PostgresFailure.describe(error) == "PostgreSQL 53100: could not extend file: No space left on device")
    }

    @Test("a constraint violation is neither; its description has the SQLSTATE, message and constraint, not the row (detail)")
    func constraint() async throws {
        let secret = "secret-\(UUID().uuidString)"
        let error = try await Self.error(of: """
            DO $$ BEGIN CREATE TEMP TABLE t (v text CONSTRAINT t_short CHECK (length(v) < 3)); INSERT INTO t VALUES ('\(secret)'); END $$
            """)
        #expect(!PostgresFailure.isTransient(error))
        #expect(!PostgresFailure.isResourceExhaustion(error))
        let text = PostgresFailure.describe(error)
        #expect(text.hasPrefix("PostgreSQL 23514: "), "\(text)")
        #expect(text.contains("constraint t_short"), "\(text)")
        #expect(!text.contains(secret))
        #expect(!text.contains("Generic description"))
    }
}
