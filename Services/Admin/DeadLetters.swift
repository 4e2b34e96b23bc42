import ArgumentParser
import CommlogRuntime
import Foundation
import Logging
import Messaging
import PostgresNIO
import Storage

/// `commlog dead-letters list|replay`: the messages that could not be processed, and their second chance.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List dead letters with their reasons, or replay them onto the queue they came from.",
        subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first.")

        @Option(help: "Only dead letters claiming this organisation.")
        var org: String?

        @Flag(help: "Include dead letters that were already replayed.")
        var all = false

        @Option(help: "At most this many.")
        var limit = 50

        @Flag(help: "Print a JSON array instead of text.") var json = false

        func run() async throws {
            try await withDatabase { database in
                let store = DeadLetterStore(database: database)
                let letters = try await store.list(organisationID: org, includeReplayed: all, limit: limit)
                if json {
                    try JSONOutput.print(letters.map { letter in
                        ["id": letter.id, "last_seen_at": letter.lastSeenAt, "queue": letter.queue, "routing_key": letter.routingKey,
                         "organisation_id": letter.organisationID, "occurrences": letter.occurrences, "replayed_at": letter.replayedAt,
                         "reason": letter.reason]
                    })
                    return
                }
                if letters.isEmpty {
                    print("No dead letters.")
                    return
                }
                for letter in letters {
                    print("\(letter.id)  \(letter.lastSeenAt.formatted(.iso8601))  \(letter.queue)  \(letter.routingKey)  org=\(letter.organisationID ?? "-")  seen=\(letter.occurrences)\(letter.replayedAt.map { "  replayed=\($0.formatted(.iso8601))" } ?? "")")
                    print("    \(letter.reason)")
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish dead letters again to the queue they were dead-lettered from.")

        @Argument(help: "Ids of the dead letters (from `list`).")
        var ids: [String] = []

        @Flag(help: "Replay every dead letter not replayed yet.")
        var all = false

        func validate() throws {
            if ids.isEmpty && !all { throw ValidationError("name the dead letters to replay, or pass --all") }
            for id in ids where UUID(uuidString: id) == nil { throw ValidationError("\(id) is not a dead letter id (a UUID)") }
        }

        func run() async throws {
            let configuration = try ProgramConfiguration.forAdmin()
            try await withDatabase { database in
                let store = DeadLetterStore(database: database)
                let connection = AMQPConnection(configuration: configuration.amqp, logger: database.logger)
                defer { Task { await connection.shutdown() } }
                let targets = all ? try await store.list(organisationID: nil, includeReplayed: false, limit: 10_000).map(\.id) : ids.compactMap(UUID.init(uuidString:))
                var failures = 0
                for id in targets {
                    do {
                        let letter = try await store.replay(id, through: connection)
                        print("replayed \(id) to \(letter.queue)")
                    } catch {
                        failures += 1
                        print("could not replay \(id): \(error)")
                    }
                }
                await connection.shutdown()
                if failures > 0 { throw ExitCode.failure }
            }
        }
    }
}

/// Runs `body` with a connected database client of the application role.
func withDatabase<Result: Sendable>(_ body: (Database) async throws -> Result) async throws -> Result {
    let configuration = try ProgramConfiguration.forAdmin()
    var logger = Logger(label: "commlog")
    logger.logLevel = .warning
    let database = Database(configuration: configuration.database, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        return try await body(database)
    }
}
