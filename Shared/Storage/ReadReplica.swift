import Logging
import PostgresNIO
import Synchronization

/// A position in PostgreSQL's write-ahead log (`16/B374D848`): how far the primary has written, or a standby
/// has replayed.
public struct WALPosition: Sendable, Hashable, Comparable, LosslessStringConvertible {
    public let value: UInt64

    public init(value: UInt64) {
        self.value = value
    }

    /// Parses PostgreSQL's `pg_lsn` text, two hexadecimal halves separated by a slash.
    public init?(_ description: String) {
        let halves = description.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, (1...8).contains(halves[0].count), (1...8).contains(halves[1].count),
              let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16) else { return nil }
        value = high << 32 | low
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (left: WALPosition, right: WALPosition) -> Bool { left.value < right.value }
}

/// A streaming replica reads may go to, and how far it has replayed the primary's log.
///
/// A read goes to the replica only when the replica has replayed past the reader's own last write (see
/// `Database.forReading(after:)`); otherwise, and while the replica does not answer, it goes to the primary.
public final class ReadReplica: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// The replay position last read and when; nil position: the replica did not answer.
    private let replayed = Mutex<(position: WALPosition?, readAt: ContinuousClock.Instant)?>(nil)
    /// How long a replay position read is used before it is read again.
    let freshness: Duration

    /// How long the replica has to say how far it has replayed: the pool waits for a connection to a replica that
    /// is down for as long as it keeps trying, and a read must not.
    static let answerWithin: Duration = .seconds(1)
    /// How long a replica that did not answer is left alone (every read goes to the primary meanwhile).
    static let downFor: Duration = .seconds(5)

    /// `operation`'s result, or an error once `limit` has passed (the operation is cancelled: a lease waiting
    /// for a connection ends then).
    static func bounded<Value: Sendable>(by limit: Duration, _ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw DatabaseError(.unexpected, "the read replica did not answer within \(limit)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    public init(configuration: DatabaseConfiguration, freshness: Duration = .milliseconds(20), logger: Logger) {
        client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        self.freshness = freshness
        self.logger = logger
    }

    /// How far the replica has replayed (read at most every `freshness`), or nil when it does not answer.
    public func replayedPosition(fresh: Bool = false) async -> WALPosition? {
        if !fresh, let (position, readAt) = replayed.withLock({ $0 }),
           ContinuousClock.now - readAt < (position == nil ? Self.downFor : freshness) {
            return position
        }
        var position: WALPosition?
        var failure: (any Error)?
        do {
            position = try await Self.bounded(by: Self.answerWithin) { [client, logger] in
                var position: WALPosition?
                for try await text in try await client.query("SELECT pg_last_wal_replay_lsn()::text", logger: logger).decode(String?.self) {
                    position = text.flatMap(WALPosition.init)
                }
                return position
            }
        } catch {
            failure = error
        }
        // Said once when the replica stops answering (not at every read while it is away), and once when it is back.
        let answeredBefore = replayed.withLock { state -> Bool in
            defer { state = (position, .now) }
            return state.map { $0.position != nil } ?? true
        }
        if let failure, answeredBefore {
            logger.warning("the read replica does not answer: reading from the primary", metadata: ["error": "\(String(reflecting: failure))"])
        } else if position != nil, !answeredBefore {
            logger.notice("the read replica answers again")
        }
        return position
    }
}

extension Database {
    /// Where a read goes: the replica when there is one, it answers, and it has replayed at least to `floor`
    /// (the reader's own last write; nil when they wrote nothing lately); the primary otherwise.
    public func forReading(after floor: WALPosition?) async -> Database {
        guard let replica else { return self }
        guard let replayed = await replica.replayedPosition() else { return primary }
        if let floor, replayed < floor {
            // Perhaps it has caught up since it was last asked.
            guard let again = await replica.replayedPosition(fresh: true), again >= floor else { return primary }
        }
        return Database(client: replica.client, logger: logger)
    }

    /// This database without its replica: every read on the primary.
    var primary: Database { Database(client: client, logger: logger) }

    /// The primary's log position now: every transaction committed before is at or before it, so a replica that
    /// has replayed to it shows them.
    public func writtenPosition() async throws -> WALPosition {
        var position: WALPosition?
        for try await text in try await client.query("SELECT pg_current_wal_insert_lsn()::text", logger: logger).decode(String.self) {
            position = WALPosition(text)
        }
        guard let position else { throw DatabaseError(.unexpected, "pg_current_wal_insert_lsn() gave no position") }
        return position
    }
}
