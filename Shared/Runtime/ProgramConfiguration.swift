import Configuration
import Foundation
import Logging
import Messaging
import Storage

/// What every program reads at start: how to reach the broker and the database, where to listen, how to batch.
public struct ProgramConfiguration: Sendable {
    public var amqp: AMQPConfiguration
    public var database: DatabaseConfiguration
    /// A streaming replica for reads (`COMMLOG_DATABASE_READ_URL`), query-api's; nil: the primary only.
    public var readDatabase: DatabaseConfiguration?
    /// The owner's database URL, for migrations; nil when not configured.
    public var databaseOwnerURL: String?
    public var migrateOnStart: Bool
    public var httpHost: String
    public var httpPort: Int
    /// Seconds a client may send nothing, mid-request or between requests, before its connection is closed.
    public var httpIdleTimeoutSeconds = 30
    /// Who may publish events for which organisations (`COMMLOG_AMQP_PUBLISHERS`).
    public var publishers = PublisherPolicy.open
    public var logLevel: Logger.Level
    public var logFormat = LogFormat.text
    public var consumer: BatchConfiguration
    /// Whether `COMMLOG_CONSUMER_CONCURRENCY` was given (a program may otherwise choose its own default).
    public var consumerConcurrencyIsSet = false
    public var deliveryLimit: Int
    public var instanceID: String
    /// The HS256 secret of staff tokens (`COMMLOG_JWT_SECRET`), for query-api and `commlog token`.
    public var jwtSecret: String?
    /// A PEM file of RS256/ES256 public keys for staff tokens (`COMMLOG_JWT_PUBLIC_KEYS_FILE`), for query-api.
    public var jwtPublicKeysFile: String?
    /// The reader the values came from, for program-specific keys.
    public let reader: ConfigReader

    /// Reads the configuration from the environment (and `overrides`, which win; tests use them).
    /// - Parameter defaultHTTPPort: the program's own port when `COMMLOG_HTTP_PORT` is not set.
    public init(program: String, defaultHTTPPort: Int, overrides: [String: String] = [:]) throws {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(overrides) { _, override in override }
        environment = try Self.readingSecretFiles(environment)
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific(Set(ConfigurationKey.all.filter(\.isSecret).map(\.environmentName)))
        ))
        try self.init(program: program, defaultHTTPPort: defaultHTTPPort, reader: reader)
    }

    public init(program: String, defaultHTTPPort: Int, reader: ConfigReader) throws {
        self.reader = reader
        do {
            amqp = try AMQPConfiguration(url: reader.string(forKey: .init(ConfigurationKey.amqpURL), isSecret: true, default: ConfigurationKey.amqpURL.defaultValue!))
        } catch {
            throw ConfigurationError(key: .amqpURL, "\(error.message)")
        }
        amqp.connectionName = program
        amqp.heartbeat = .seconds(try reader.positiveInt(.amqpHeartbeat))
        do {
            database = try DatabaseConfiguration(url: reader.string(forKey: .init(ConfigurationKey.databaseURL), isSecret: true, default: ConfigurationKey.databaseURL.defaultValue!))
        } catch {
            throw ConfigurationError(key: .databaseURL, "\(error.message)")
        }
        database.maximumConnections = try reader.positiveInt(.databasePoolSize)
        if let url = reader.string(forKey: .init(ConfigurationKey.databaseReadURL), isSecret: true), !url.isEmpty {
            do {
                readDatabase = try DatabaseConfiguration(url: url)
            } catch {
                throw ConfigurationError(key: .databaseReadURL, "\(error.message)")
            }
            readDatabase?.maximumConnections = database.maximumConnections
        }
        databaseOwnerURL = reader.string(forKey: .init(ConfigurationKey.databaseOwnerURL), isSecret: true)
        migrateOnStart = try reader.flag(.migrateOnStart)
        httpHost = reader.string(forKey: .init(ConfigurationKey.httpHost), default: ConfigurationKey.httpHost.defaultValue!)
        httpPort = try reader.positiveInt(.httpPort, default: defaultHTTPPort)
        guard httpPort <= 65535 else { throw ConfigurationError(key: .httpPort, "must be a port number (1-65535)") }
        let level = reader.string(forKey: .init(ConfigurationKey.logLevel), default: "info")
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError(key: .logLevel, "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \(level))")
        }
        self.logLevel = logLevel
        let format = reader.string(forKey: .init(ConfigurationKey.logFormat), default: "text")
        guard let logFormat = LogFormat(rawValue: format.lowercased()) else {
            throw ConfigurationError(key: .logFormat, "must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", ")) (got \(format))")
        }
        self.logFormat = logFormat
        consumer = BatchConfiguration()
        consumer.maximumBatchSize = try reader.positiveInt(.batchSize)
        consumer.maximumWait = .milliseconds(try reader.positiveInt(.batchWait))
        consumer.attemptTimeout = .seconds(try reader.positiveInt(.batchTimeout))
        httpIdleTimeoutSeconds = try reader.positiveInt(.httpIdleTimeout)
        if let text = reader.string(forKey: .init(ConfigurationKey.amqpPublishers)) { publishers = try PublisherPolicy(parsing: text) }
        consumer.prefetch = try reader.positiveInt(.prefetch)
        consumer.prerequisiteWait = .seconds(try reader.positiveInt(.unknownOrganisationWait))
        consumer.concurrency = try reader.positiveInt(.consumerConcurrency, default: 1)
        consumerConcurrencyIsSet = reader.string(forKey: .init(ConfigurationKey.consumerConcurrency)) != nil
        deliveryLimit = try reader.positiveInt(.deliveryLimit)
        consumer.deliveryLimit = deliveryLimit
        jwtSecret = reader.string(forKey: .init(ConfigurationKey.jwtSecret), isSecret: true)
        jwtPublicKeysFile = reader.string(forKey: .init(ConfigurationKey.jwtPublicKeysFile))
        instanceID = reader.string(forKey: .init(ConfigurationKey.instanceID)) ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// `environment` with each secret key that is given as a file (`COMMLOG_DATABASE_URL_FILE=/run/secrets/…`,
    /// how Kubernetes Secrets and compose `secrets:` are mounted) set to the file's content, without the final
    /// line break. Giving a key both ways is an error, as is a file that cannot be read.
    public static func readingSecretFiles(_ environment: [String: String]) throws -> [String: String] {
        var environment = environment
        for key in ConfigurationKey.all where key.isSecret {
            let fileKey = key.fileVariant
            guard let path = environment[fileKey], !path.isEmpty else { continue }
            guard (environment[key.environmentName] ?? "").isEmpty else {
                throw ConfigurationError(key: key, "is set, and so is \(fileKey): set one of them")
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError(name: fileKey, "cannot read \(path): \(error.localizedDescription)")
            }
            var value = Substring(text)
            while value.last?.isNewline == true { value.removeLast() }
            guard !value.isEmpty else { throw ConfigurationError(name: fileKey, "\(path) is empty") }
            environment[key.environmentName] = String(value)
        }
        return environment
    }

    /// The owner's database configuration, for migrations.
    public func ownerDatabase() throws -> DatabaseConfiguration {
        guard let databaseOwnerURL else { throw ConfigurationError(key: .databaseOwnerURL, "is required to apply migrations") }
        do {
            return try DatabaseConfiguration(url: databaseOwnerURL)
        } catch {
            throw ConfigurationError(key: .databaseOwnerURL, "\(error.message)")
        }
    }
}

/// A configuration value that cannot be used, naming its environment variable.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let key: String
    public let message: String

    public init(key: ConfigurationKey, _ message: String) {
        self.init(name: key.environmentName, message)
    }

    /// An error about the environment variable `name` (such as a key's `_FILE` variant).
    public init(name: String, _ message: String) {
        self.key = name
        self.message = message
    }

    public var description: String { "configuration \(key): \(message)" }
}

extension ConfigKey {
    public init(_ key: ConfigurationKey) {
        self.init(key.dotted)
    }
}

extension ConfigReader {
    public func positiveInt(_ key: ConfigurationKey, default defaultValue: Int? = nil) throws -> Int {
        let fallback = defaultValue ?? Int(key.defaultValue ?? "") ?? 0
        guard let text = string(forKey: .init(key)) else { return fallback }
        guard let value = Int(text), value > 0 else { throw ConfigurationError(key: key, "must be a positive whole number (got \(text))") }
        return value
    }

    public func flag(_ key: ConfigurationKey) throws -> Bool {
        guard let text = string(forKey: .init(key))?.lowercased() else { return key.defaultValue == "true" }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw ConfigurationError(key: key, "must be true or false (got \(text))")
        }
    }
}
