import Foundation
import PostgresNIO

/// Where PostgreSQL is and how many connections to keep.
public struct DatabaseConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `disable`, `prefer` or `require` (libpq's `sslmode`; `require` verifies the server's certificate and name).
    /// Default: `disable` on this machine (loopback), `require` for any other host: `prefer` falls back to
    /// plain text whenever the server (or a man in the middle) declines TLS, so it is only used when asked for.
    public var tlsMode: String
    /// Most connections of the pool. Default 20.
    public var maximumConnections: Int = 20

    /// Parses `postgres://user:password@host:port/database?sslmode=disable`.
    public init(url: String) throws(DatabaseError) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql",
              let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else {
            throw DatabaseError(.configuration, "not a PostgreSQL URL (expected postgres://user:password@host:port/database)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password?.removingPercentEncoding
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        self.database = database.isEmpty ? self.user : database
        let isLocal = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()) || host.hasPrefix("/")
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? (isLocal ? "disable" : "require")
        guard ["disable", "prefer", "require"].contains(sslmode) else {
            throw DatabaseError(.configuration, "sslmode must be disable, prefer or require (got \(sslmode))")
        }
        self.tlsMode = sslmode
    }

    /// The postgres-nio client configuration.
    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch tlsMode {
        case "disable": .disable
        case "require": .require(.makeClientConfiguration())
        default: .prefer(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        // Short transactions only: JIT compilation costs more than any of them (a search under row-level
        // security was seen to spend 185 ms compiling before it ran).
        configuration.options.additionalStartupParameters = [("jit", "off")]
        return configuration
    }
}
