import PostgresNIO

/// A storage failure with a readable description.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable { case configuration, migration, missingTenant, unexpected }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration is unusable.
        public static let configuration = Code(.configuration)
        /// A migration could not be applied, or an applied one was changed.
        public static let migration = Code(.migration)
        /// A tenant-scoped transaction was asked for without an organisation.
        public static let missingTenant = Code(.missingTenant)
        /// The server answered something it should not (no row where one is always returned).
        public static let unexpected = Code(.unexpected)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "database \(code): \(message)" }
}

/// Which PostgreSQL failures are worth retrying unchanged.
public enum PostgresFailure {
    /// Connection failures, shutdowns, resource exhaustion, serialization failures and deadlocks are transient;
    /// constraint violations, bad data and everything else are not.
    public static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return [error.beginError, error.closureError, error.commitError].contains { $0.map(isTransient) ?? false }
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .server:
            guard let state = error.serverInfo?[.sqlState] else { return false }
            // 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown),
            // 58 system error, 40001 serialization failure, 40P01 deadlock.
            return ["08", "53", "57", "58"].contains(String(state.prefix(2))) || state == "40001" || state == "40P01"
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        default:
            return false
        }
    }

    /// Class 53 (insufficient resources: out of memory, disk full, too many connections): transient, but
    /// possibly caused by the batch itself, so retried a bounded number of times before the batch is split.
    public static func isResourceExhaustion(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return [error.beginError, error.closureError, error.commitError].contains { $0.map(isResourceExhaustion) ?? false }
        }
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("53")
    }

    /// What went wrong, readable and without the statement's values: PostgreSQL's SQLSTATE, message and the
    /// constraint, column or table it names (postgres-nio's own description hides all of it, so dead letters
    /// read "PSQLError – Generic description…"). The server's `detail` is left out: it may quote values.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            let inner = [error.beginError, error.closureError, error.commitError].compactMap { $0 }
            return inner.isEmpty ? "\(error)" : inner.map(describe).joined(separator: "; ")
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        guard error.code == .server, let info = error.serverInfo else { return "PostgreSQL: \(error.code)" }
        var text = "PostgreSQL \(info[.sqlState] ?? "?"): \(info[.message] ?? "error")"
        for (field, name) in [(PSQLError.ServerInfo.Field.constraintName, "constraint"), (.columnName, "column"), (.tableName, "table")] {
            if let value = info[field] { text += " (\(name) \(value))" }
        }
        return text
    }
}
