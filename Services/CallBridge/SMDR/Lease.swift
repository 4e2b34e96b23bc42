import Logging
import PostgresNIO
import Storage

/// Work that one replica at a time does, leased in PostgreSQL's `leases` (not tenant-scoped).
struct Lease: Sendable {
    let name: String
    let holder: String
    let duration: Duration
    let database: Database

    /// Takes the lease when it is free or expired, or extends it when already ours; false when another holds it.
    func acquire() async throws -> Bool {
        let seconds = Double(duration.components.seconds)
        return try await database.withTransaction { connection in
            for try await _ in try await connection.query("""
                INSERT INTO leases (name, holder, expires_at) VALUES (\(name), \(holder), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
                RETURNING holder
                """, logger: database.logger).decode(String.self) {
                return true
            }
            return false
        }
    }

    /// Gives the lease up (if still ours), so that another replica can take over at once.
    func release() async {
        do {
            try await database.withTransaction { connection in
                _ = try await connection.query("DELETE FROM leases WHERE name = \(name) AND holder = \(holder)", logger: database.logger)
            }
        } catch {
            database.logger.warning("could not release lease", metadata: ["lease": "\(name)", "error": "\(error)"])
        }
    }
}
