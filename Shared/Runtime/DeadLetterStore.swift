import Foundation
import Messaging
import PostgresNIO
import Storage

/// Reads and replays the archived dead letters.
public struct DeadLetterStore: Sendable {
    /// One row of `dead_letters`.
    public struct Letter: Sendable {
        public let id: UUID
        public let queue: String
        public let routingKey: String
        public let messageID: String?
        public let organisationID: String?
        public let reason: String
        public let occurrences: Int
        public let lastSeenAt: Date
        public let replayedAt: Date?
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Newest first; replayed ones only with `includeReplayed`.
    public func list(organisationID: String?, includeReplayed: Bool, limit: Int) async throws -> [Letter] {
        let rows = try await database.client.query("""
            SELECT id, queue, routing_key, message_id, organisation_id, reason, occurrences, last_seen_at, replayed_at
            FROM dead_letters
            WHERE (\(organisationID)::text IS NULL OR organisation_id = \(organisationID))
              AND (\(includeReplayed) OR replayed_at IS NULL)
            ORDER BY last_seen_at DESC, id
            LIMIT \(limit)
            """, logger: database.logger)
        var letters: [Letter] = []
        for try await (id, queue, routingKey, messageID, organisation, reason, occurrences, lastSeen, replayed)
            in rows.decode((UUID, String, String, String?, String?, String, Int, Date, Date?).self) {
            letters.append(Letter(id: id, queue: queue, routingKey: routingKey, messageID: messageID, organisationID: organisation,
                                  reason: reason, occurrences: occurrences, lastSeenAt: lastSeen, replayedAt: replayed))
        }
        return letters
    }

    /// Publishes the letter again, straight to the queue it was dead-lettered from (through the default
    /// exchange, so that other consumers of its routing key do not see it twice), waits for the broker's
    /// confirm, and then marks it replayed.
    @discardableResult
    public func replay(_ id: UUID, through connection: AMQPConnection) async throws -> Letter {
        let rows = try await database.client.query("""
            SELECT queue, routing_key, message_id, content_type, headers::text, body, organisation_id, reason, occurrences, last_seen_at, replayed_at
            FROM dead_letters WHERE id = \(id)
            """, logger: database.logger)
        var found: (String, String, String?, String?, String, Data, String?, String, Int, Date, Date?)?
        for try await row in rows.decode((String, String, String?, String?, String, Data, String?, String, Int, Date, Date?).self) { found = row }
        guard let (queue, routingKey, messageID, contentType, headersJSON, body, organisation, reason, occurrences, lastSeen, replayed) = found else {
            throw DeadLetterStoreError(message: "no dead letter \(id)")
        }
        var headers: AMQPTable = [:]
        if let object = try? JSONSerialization.jsonObject(with: Data(headersJSON.utf8)) as? [String: Any] {
            for (key, value) in object where !Self.brokerHeaders.contains(key) { headers[key] = AMQPFieldValue(json: value) }
        }
        try await connection.publish(OutgoingMessage(
            exchange: "",
            routingKey: queue,
            body: Array(body),
            contentType: contentType,
            messageID: messageID,
            headers: headers
        ))
        try await database.client.query(
            "UPDATE dead_letters SET replayed_at = now(), replay_count = replay_count + 1 WHERE id = \(id)",
            logger: database.logger
        )
        return Letter(id: id, queue: queue, routingKey: routingKey, messageID: messageID, organisationID: organisation,
                      reason: reason, occurrences: occurrences, lastSeenAt: lastSeen, replayedAt: replayed)
    }

    /// Headers about the failed delivery that must not travel with the replayed message.
    static let brokerHeaders: Set<String> = [
        "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
        "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "x-delivery-count",
        DeadLetter.reasonHeader, DeadLetter.queueHeader, OutgoingMessage.publishTagHeader,
    ]
}

public struct DeadLetterStoreError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
