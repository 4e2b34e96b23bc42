import CommlogRuntime
import Foundation
import Logging
import Messaging
import PostgresNIO
import Storage

/// The servers `make test` started, read from the environment it exports (`.data/stack.env`).
/// A missing variable is an error, not a skip: these tests exist to run against the real servers.
public enum TestEnvironment {
    public struct MissingVariable: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "\(name) is not set: run the tests with `make test`, which starts the servers and exports their addresses" }
    }

    public static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw MissingVariable(name: name) }
        return value
    }

    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["COMMLOG_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    /// The broker of the stack (`COMMLOG_AMQP_URL`), or the one the environment variable `urlVariable` names (the
    /// cluster's nodes, another user).
    public static func amqpConfiguration(name: String = "test", urlVariable: String = "COMMLOG_AMQP_URL") throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: variable(urlVariable))
        configuration.connectionName = name
        configuration.heartbeat = .seconds(5)
        configuration.maximumReconnectDelay = .seconds(1)
        return configuration
    }

    // Not inlined: inlined into withDatabase's coroutine it crashed the release compiler (Swift 6.3.1, signal 11
    // while splitting the coroutine), which commlog-bench needs.
    @inline(never)
    public static func databaseConfiguration(owner: Bool = false) throws -> DatabaseConfiguration {
        var configuration = try DatabaseConfiguration(url: variable(owner ? "COMMLOG_DATABASE_OWNER_URL" : "COMMLOG_DATABASE_URL"))
        // Suites run in parallel, each test with its own pool, next to the programs they start.
        configuration.maximumConnections = 6
        return configuration
    }

    /// A name no other test (or earlier run) uses.
    public static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a connected application-role database, migrated first.
    public static func withDatabase<Result: Sendable>(owner: Bool = false, _ body: @Sendable (Database) async throws -> Result) async throws -> Result {
        try await Migrator.run(configuration: databaseConfiguration(owner: true), logger: logger)
        let database = Database(configuration: try databaseConfiguration(owner: owner), logger: logger)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await database.client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }

    /// Runs `body` with a fresh AMQP connection, shut down afterwards.
    public static func withConnection<Result: Sendable>(
        name: String = "test", urlVariable: String = "COMMLOG_AMQP_URL", brokerMajorVersion: Int? = nil,
        _ body: @Sendable (AMQPConnection) async throws -> Result
    ) async throws -> Result {
        var configuration = try amqpConfiguration(name: name, urlVariable: urlVariable)
        configuration.brokerMajorVersion = brokerMajorVersion
        let connection = AMQPConnection(configuration: configuration, logger: logger)
        do {
            let result = try await body(connection)
            await connection.shutdown()
            return result
        } catch {
            await connection.shutdown()
            throw error
        }
    }

    /// Runs `deploy/local/stack.sh` with `arguments` (the broker-restart test stops and starts RabbitMQ); returns
    /// what it printed.
    @discardableResult
    public static func stack(_ arguments: String...) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("stack-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try await ChildProcess(
            executable: "/bin/bash", arguments: [try variable("COMMLOG_STACK_SCRIPT")] + arguments,
            environment: ProcessInfo.processInfo.environment, outputPath: output
        ).wait()
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ChildProcessError(description: "stack.sh \(arguments.joined(separator: " ")) exited with \(status): \(printed.suffix(2000))")
        }
        return printed
    }
}

/// Reads `value` until `condition` holds of the reading or `timeout` passes; returns the last reading.
public func eventually<Value>(
    timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50),
    reading value: () async throws -> Value, until condition: (Value) -> Bool
) async rethrows -> Value {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        let reading = try await value()
        if condition(reading) { return reading }
        try? await Task.sleep(for: interval)
    }
    return try await value()
}

/// A wait that ran out: what was waited for, and where.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let description: String
}

/// Polls `condition` until it holds; throws `WaitTimedOut` when `timeout` passes first (a wait that never
/// silently gives up).
public func waitUntil(
    _ what: String, timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50),
    fileID: String = #fileID, line: Int = #line, _ condition: () async throws -> Bool
) async throws {
    guard try await eventually(timeout: timeout, every: interval, condition) else {
        throw WaitTimedOut(description: "\(fileID):\(line): still not \(what) after \(timeout)")
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
