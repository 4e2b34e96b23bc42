import Crypto
import Foundation
import Logging
import PostgresNIO

/// One versioned SQL file of `Migrations/`, named `NNNN_description.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    /// SHA-256 of the file: an applied migration must never change.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The migrations that ship with this build, in version order.
    public static func bundled() throws -> [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw DatabaseError(.migration, "the Migrations folder is missing from the resource bundle")
        }
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        return try files.filter { $0.pathExtension == "sql" }.map { file in
            let base = file.deletingPathExtension().lastPathComponent
            guard let separator = base.firstIndex(of: "_"), let version = Int(base[..<separator]) else {
                throw DatabaseError(.migration, "\(file.lastPathComponent) is not named NNNN_description.sql")
            }
            return Migration(version: version, name: String(base[base.index(after: separator)...]), sql: try String(contentsOf: file, encoding: .utf8))
        }
        .sorted { $0.version < $1.version }
    }
}

/// Applies migrations under an advisory lock, so that replicas starting together migrate once.
///
/// Each migration runs in its own transaction together with its row in `schema_migrations`
/// (version, name, checksum); a migration whose file changed after it was applied stops the run.
public struct Migrator: Sendable {
    /// Key of the session-level advisory lock that serialises migrators.
    static let lockKey: Int64 = 0x636F_6D6D_6C6F_67  // "commlog"

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies what is missing and returns the versions applied now (empty when up to date).
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await apply(migrations, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var applied: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query("SELECT version, checksum FROM schema_migrations", logger: logger).decode((Int, String).self) {
            applied[version] = checksum
        }
        var appliedNow: [Int] = []
        for migration in migrations {
            if let checksum = applied[migration.version] {
                guard checksum == migration.checksum else {
                    throw DatabaseError(.migration, "migration \(migration.version) (\(migration.name)) was changed after it was applied; add a new migration instead")
                }
                continue
            }
            logger.info("applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            try await connection.withTransaction(logger: logger) { connection in
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger
                )
            }
            appliedNow.append(migration.version)
        }
        return appliedNow
    }
}

extension Migrator {
    /// Connects with `configuration` (the owner role), applies the bundled migrations and disconnects.
    @discardableResult
    public static func run(configuration: DatabaseConfiguration, logger: Logger) async throws -> [Int] {
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: [Int]?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await Migrator(client: client, logger: logger).migrate(Migration.bundled())
        }
    }
}
