import Logging
import PostgresNIO

/// Work that one replica at a time does (polling a mailbox, holding a PBX's SMDR connection), leased in
/// PostgreSQL's `leases` table, which is not tenant-scoped. A lease not renewed within its duration is free
/// for another replica: a dead holder's work moves on its own.
public struct Lease: Sendable {
    public let name: String
    public let holder: String
    public let duration: Duration
    let database: Database

    public init(name: String, holder: String, duration: Duration, database: Database) {
        self.name = name
        self.holder = holder
        self.duration = duration
        self.database = database
    }

    /// Takes the lease when it is free or expired, or extends it when already ours; false when another holds it.
    public func acquire() async throws -> Bool {
        let seconds = Double(duration.components.seconds)
        // One statement: the row is taken or renewed atomically, and RETURNING says whether it is ours.
        for try await _ in try await database.client.query("""
            INSERT INTO leases (name, holder, expires_at) VALUES (\(name), \(holder), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
            WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
            RETURNING holder
            """, logger: database.logger).decode(String.self) {
            return true
        }
        return false
    }

    /// Gives the lease up (if still ours), so that another replica can take over at once.
    public func release() async {
        do {
            try await database.client.query("DELETE FROM leases WHERE name = \(name) AND holder = \(holder)", logger: database.logger)
        } catch {
            database.logger.warning("could not release lease", metadata: ["lease": "\(name)", "error": "\(error)"])
        }
    }

    /// Gives up every lease `holder` holds whose name starts with `prefix` (`mailbox:`, `smdr:`): what a replica
    /// does as it stops, from a task that is not cancelled (a query in a cancelled task fails at once), so that
    /// another replica takes the work over without waiting for the leases to expire.
    public static func releaseAll(prefix: String, holder: String, database: Database) async {
        do {
            try await database.client.query(
                "DELETE FROM leases WHERE holder = \(holder) AND starts_with(name, \(prefix))", logger: database.logger)
        } catch {
            database.logger.warning("could not release leases", metadata: ["leases": "\(prefix)*", "error": "\(error)"])
        }
    }
}
