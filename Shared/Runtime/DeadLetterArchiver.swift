import CommlogDomain
import Crypto
import Foundation
import Logging
import Messaging
import PostgresNIO
import Storage

/// Keeps every dead letter in the `dead_letters` table, where `commlog dead-letters` lists and replays them.
///
/// Runs in every program as a competing consumer of `commlog.dead-letters`. The same message dead-lettered
/// again (after a replay that failed too) is one row with its occurrences counted.
public struct DeadLetterArchiver: BatchHandler {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The dead-letter queue, which itself has no delivery limit and no dead-letter exchange: nothing is dropped.
    public static var queue: Topology.Queue {
        Topology.base.queues[0]
    }

    public func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        try await database.withTransaction { connection in
            for delivery in batch {
                let letter = DeadLetter(from: delivery)
                try await connection.query("""
                    INSERT INTO dead_letters
                        (fingerprint, queue, routing_key, message_id, organisation_id, reason, content_type, headers, body)
                    VALUES (\(letter.fingerprint), \(letter.queue.storable), \(letter.routingKey.storable), \(letter.properties.messageID?.storable),
                            \(letter.claimedOrganisation?.storable), \(letter.reason.storable), \(letter.properties.contentType?.storable),
                            \(letter.headersJSON)::jsonb, \(Data(letter.body)))
                    ON CONFLICT (fingerprint) DO UPDATE SET
                        occurrences = dead_letters.occurrences + 1,
                        last_seen_at = now(),
                        reason = EXCLUDED.reason,
                        replayed_at = NULL
                    """, logger: database.logger)
            }
        }
        return []
    }
}

extension DeadLetter {
    /// SHA-256 of queue, routing key, message id and body.
    var fingerprint: String {
        var hash = SHA256()
        for part in [queue, routingKey, properties.messageID ?? ""] {
            hash.update(data: Data(part.utf8))
            hash.update(data: Data([0]))
        }
        hash.update(data: Data(body))
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The envelope's `organisation_id`, when the body is JSON that has one.
    var claimedOrganisation: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return object["organisation_id"] as? String
    }

    /// The headers as a JSON object (bytes as text, nested tables as objects), NUL characters replaced
    /// (`jsonb` refuses `\u0000`).
    var headersJSON: String {
        let object = properties.headers.mapValues(\.jsonObject)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\u0000", with: "\\ufffd")
    }
}

extension AMQPFieldValue {
    var jsonObject: Any {
        switch self {
        case .string(let value): value
        case .int(let value): value
        case .bool(let value): value
        case .double(let value): value.isFinite ? value : String(describing: value)
        case .timestamp(let value): value
        case .bytes(let value): String(decoding: value, as: UTF8.self)
        case .array(let values): values.map(\.jsonObject)
        case .table(let table): table.mapValues(\.jsonObject)
        case .void: NSNull()
        }
    }

    /// Converts JSON back into a header value (for replaying a stored dead letter).
    public init(json: Any) {
        switch json {
        case let value as String: self = .string(value)
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .int(Int64(value))
        case let value as Double: self = .double(value)
        case let value as [Any]: self = .array(value.map(AMQPFieldValue.init(json:)))
        case let value as [String: Any]: self = .table(value.mapValues(AMQPFieldValue.init(json:)))
        default: self = .void
        }
    }
}
