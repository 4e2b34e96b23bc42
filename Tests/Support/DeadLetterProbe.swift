import CommlogRuntime
import Foundation
import Messaging
import PostgresNIO
import Storage

/// Finds a dead letter in the `dead_letters` table, archiving the dead-letter queue meanwhile
/// (any running Commlog program archives it too; both write the same row).
public enum DeadLetterProbe {
    public struct Found: Sendable {
        public let queue: String
        public let reason: String
        public let routingKey: String
        public let organisationID: String?
        public let id: UUID
    }

    public struct NotFound: Error, CustomStringConvertible {
        public let messageID: String
        public var description: String { "no dead letter with message id \(messageID) was archived in time" }
    }

    public static func waitFor(messageID: String, timeout: Duration = .seconds(30)) async throws -> Found {
        try await TestEnvironment.withDatabase { database in
            try await TestEnvironment.withConnection(name: "test-archiver") { connection in
                let archiver = BatchingConsumer(
                    queue: DeadLetterArchiver.queue,
                    consumerConnection: connection,
                    publisher: connection,
                    handler: DeadLetterArchiver(database: database),
                    isTransient: PostgresFailure.isTransient,
                    logger: TestEnvironment.logger
                )
                return try await withThrowingTaskGroup(of: Found?.self) { group in
                    group.addTask {
                        try await archiver.run()
                        return nil
                    }
                    defer { group.cancelAll() }
                    var found: Found?
                    guard try await eventually(timeout: timeout, every: .milliseconds(100), {
                        found = try await find(messageID, in: database)
                        return found != nil
                    }), let found else { throw NotFound(messageID: messageID) }
                    return found
                }
            }
        }
    }

    static func find(_ messageID: String, in database: Database) async throws -> Found? {
        let rows = try await database.client.query(
            "SELECT id, queue, reason, routing_key, organisation_id FROM dead_letters WHERE message_id = \(messageID)",
            logger: database.logger
        )
        for try await (id, queue, reason, routingKey, organisation) in rows.decode((UUID, String, String, String, String?).self) {
            return Found(queue: queue, reason: reason, routingKey: routingKey, organisationID: organisation, id: id)
        }
        return nil
    }
}
