import Logging
import PostgresNIO

/// The pooled PostgreSQL client and tenant-scoped transactions on it.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// A streaming replica reads may go to (`forReading(after:)`); nil: every read on the primary.
    public var replica: ReadReplica?

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates the client; it must run (`client.run()`, or as a service) for queries to go through.
    public init(configuration: DatabaseConfiguration, logger: Logger) {
        self.init(client: PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger), logger: logger)
    }

    /// Runs `body` in one transaction in which row-level security admits only `organisationID`'s rows.
    @discardableResult
    public func withTenant<Result>(
        _ organisationID: String,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        guard !organisationID.isEmpty else { throw DatabaseError(.missingTenant, "no organisation given") }
        return try await unwrappingTransactionError {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.setTenant(organisationID, logger: logger)
                return try await body(connection)
            }
        }
    }

    /// Runs `body` in one transaction without a tenant: only tables outside row-level security are visible.
    @discardableResult
    public func withTransaction<Result>(_ body: (PostgresConnection) async throws -> sending Result) async throws -> sending Result {
        try await unwrappingTransactionError {
            try await client.withTransaction(logger: logger, body)
        }
    }

    /// Rethrows what actually failed inside a transaction (the statement's `PSQLError`), not the wrapper.
    private func unwrappingTransactionError<Result>(_ body: () async throws -> sending Result) async throws -> sending Result {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            if let rollbackError = error.rollbackError {
                logger.warning("rollback failed", metadata: ["error": "\(rollbackError)"])
            }
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
    }

    /// Whether the database answers (for readiness checks).
    public func isReachable() async -> Bool {
        do {
            try await client.query("SELECT 1", logger: logger)
            return true
        } catch {
            return false
        }
    }
}

extension PostgresConnection {
    /// Switches the current transaction to `organisationID`: from here on row-level security admits only its rows.
    /// A batch spanning several organisations calls this before each organisation's statements.
    public func setTenant(_ organisationID: String, logger: Logger) async throws {
        try await query("SELECT set_config('commlog.organisation_id', \(organisationID), true)", logger: logger)
    }
}
