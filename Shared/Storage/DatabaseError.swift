import PostgresNIO

/// A storage failure with a readable description.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable { case configuration, migration, missingTenant }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration is unusable.
        public static let configuration = Code(.configuration)
        /// A migration could not be applied, or an applied one was changed.
        public static let migration = Code(.migration)
        /// A tenant-scoped transaction was asked for without an organisation.
        public static let missingTenant = Code(.missingTenant)

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
}
