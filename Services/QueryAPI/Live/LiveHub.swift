import CommlogDomain
import Foundation
import Logging
import Messaging
import Metrics
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Storage
import Synchronization

/// Fans Commlog's notifications (`communication.*`, `call.*`) out to the `GET /v1/live` streams of this replica.
///
/// Each replica has its own transient queue (bound to both keys, deleted with the replica's connection). For every notification the hub reads once who is involved in the entry and who is related to its
/// client, then writes the event to each open stream whose caller may see it: `communication.*` by the
/// visibility rules, `call.*` to the staff the call involves (handler, participants, author). The last
/// events are kept for a short while so that a client reconnecting with `Last-Event-ID` misses nothing.
final class LiveHub: Service, Sendable {
    /// An event as kept for replay, with what decides who receives it.
    struct Event: Sendable {
        let id: String
        let name: String
        let organisationID: String
        let data: String
        let isCall: Bool
        let involved: Set<String>
        let related: Set<String>

        func isVisible(to caller: Caller) -> Bool {
            if isCall { return involved.contains(caller.staffID) }
            return caller.seesEverything || involved.contains(caller.staffID) || related.contains(caller.staffID)
        }

        /// The event in the Server-Sent Events format.
        var frame: ByteBuffer { ByteBuffer(string: "id: \(id)\nevent: \(name)\ndata: \(data)\n\n") }
    }

    private struct Subscriber {
        let caller: Caller
        let continuation: AsyncStream<ByteBuffer>.Continuation
    }

    private struct State {
        var subscribers: [UUID: Subscriber] = [:]
        var recent: [Event] = []
        var sequence = 0
    }

    /// How many events a replica keeps for `Last-Event-ID`.
    static let replayLimit = 2_000
    /// Events waiting to be written to one slow client before the oldest are dropped.
    static let clientBufferLimit = 1_000

    let queue: Topology.Queue
    private let connection: AMQPConnection
    private let database: Database
    private let heartbeat: Duration
    private let logger: Logger
    private let state = Mutex(State())

    init(connection: AMQPConnection, database: Database, heartbeat: Duration, logger: Logger) {
        self.connection = connection
        self.database = database
        self.heartbeat = heartbeat
        self.logger = logger
        // The replica's own queue, gone with its connection: notifications for live views are best effort,
        // and a replica that stopped must not leave a queue filling up behind it.
        queue = .transient(name: "query-api.live.\(UUID().uuidString.lowercased())", bindings: ["communication.*", "call.*"], maximumLength: 100_000)
    }

    /// Opens a stream for `caller`, starting with the kept events after `lastEventID` that the caller may see.
    func subscribe(_ caller: Caller, lastEventID: String?) -> AsyncStream<ByteBuffer> {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(Self.clientBufferLimit))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            let count = state.withLock { state in
                state.subscribers.removeValue(forKey: id)
                return state.subscribers.count
            }
            Gauge(label: "commlog_live_streams").record(count)
        }
        continuation.yield(ByteBuffer(string: ": connected\nretry: 3000\n\n"))
        let count = state.withLock { state in
            if let lastEventID, let index = state.recent.lastIndex(where: { $0.id == lastEventID }) {
                for event in state.recent[(index + 1)...] where event.organisationID == caller.organisationID && event.isVisible(to: caller) {
                    continuation.yield(event.frame)
                }
            }
            state.subscribers[id] = Subscriber(caller: caller, continuation: continuation)
            return state.subscribers.count
        }
        Gauge(label: "commlog_live_streams").record(count)
        return stream
    }

    func run() async throws {
        try await connection.declare(Topology(exchanges: [.init(name: Topology.eventsExchange)], queues: [queue]))
        let deliveries = connection.consume(queue: queue.name, prefetch: 1_000)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await self.beat() }
                while true {
                    let batch = try await deliveries.nextBatch(maximum: 200, maximumWait: .milliseconds(5))
                    if batch.isEmpty { break }
                    for delivery in batch { await dispatch(delivery) }
                    batch.last?.ack(multiple: true)
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            deliveries.stop()
            self.finishAll()
        }
        finishAll()
    }

    /// Writes a comment to every stream now and then, so that proxies and clients know it is alive.
    private func beat() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: heartbeat) } catch { return }
            let continuations = state.withLock { $0.subscribers.values.map(\.continuation) }
            for continuation in continuations { continuation.yield(ByteBuffer(string: ": keep-alive\n\n")) }
        }
    }

    private func finishAll() {
        let continuations = state.withLock { $0.subscribers.values.map(\.continuation) }
        for continuation in continuations { continuation.finish() }
    }

    private func dispatch(_ delivery: AMQPDelivery) async {
        guard let notice = Notice(delivery) else {
            Counter(label: "commlog_live_events_total", dimensions: [("outcome", "unreadable")]).increment()
            return
        }
        let hasSubscribers = state.withLock { $0.subscribers.values.contains { $0.caller.organisationID == notice.organisationID } }
        var involved = Set(notice.staffIDs)
        var related = Set<String>()
        if hasSubscribers {
            do {
                (involved, related) = try await audience(of: notice)
            } catch {
                // Without the directory nobody but the staff the event names is told; live views are a convenience.
                logger.warning("could not read the audience of a live event", metadata: ["error": "\(error)", "communication": "\(notice.communicationID)"])
            }
        }
        let delivered = state.withLock { state -> Int in
            var delivered = 0
            for name in notice.liveNames {
                state.sequence += 1
                let event = Event(
                    id: "\(Int64(Date().timeIntervalSince1970 * 1000))-\(state.sequence)", name: name, organisationID: notice.organisationID,
                    data: notice.data, isCall: name.hasPrefix("call."), involved: involved, related: related
                )
                state.recent.append(event)
                for subscriber in state.subscribers.values
                where subscriber.caller.organisationID == event.organisationID && event.isVisible(to: subscriber.caller) {
                    subscriber.continuation.yield(event.frame)
                    delivered += 1
                }
            }
            if state.recent.count > Self.replayLimit { state.recent.removeFirst(state.recent.count - Self.replayLimit) }
            return delivered
        }
        Counter(label: "commlog_live_events_total", dimensions: [("outcome", delivered > 0 ? "delivered" : "unwatched")]).increment()
    }

    /// The staff the entry involves (author, staff participants: handler, related…) and the staff related to
    /// its client or its patient's client, read under the organisation's row-level security.
    private func audience(of notice: Notice) async throws -> (involved: Set<String>, related: Set<String>) {
        try await database.withTenant(notice.organisationID) { connection in
            let rows = try await connection.query("""
                SELECT array_remove(array_append(array(SELECT p.ref_id FROM participants p WHERE p.organisation_id = c.organisation_id
                           AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id IS NOT NULL), c.author_staff_id), NULL),
                       array(SELECT r.staff_id FROM related_staff r WHERE r.organisation_id = c.organisation_id
                           AND (r.client_id = c.client_id OR r.client_id = (SELECT pt.client_id FROM patients pt
                                WHERE pt.organisation_id = c.organisation_id AND pt.id = c.patient_id)))
                FROM communications c WHERE c.organisation_id = \(notice.organisationID) AND c.id = \(notice.communicationID)
                """, logger: logger)
            for try await (involved, related) in rows.decode(([String], [String]).self) {
                return (Set(involved).union(notice.staffIDs), Set(related))
            }
            return (Set(notice.staffIDs), [])
        }
    }
}

/// A broker notification as the hub reads it: the envelope's type and organisation and the data's ids.
struct Notice: Sendable {
    let name: String
    let organisationID: String
    let communicationID: UUID
    let staffIDs: [String]
    /// The `data` object as JSON, passed on as the event's data.
    let data: String
    /// The entry's type and status after the change.
    let entryType: String?
    let status: String?

    /// The live events this notification gives: itself, and for a call (call-bridge announces calls as
    /// `communication.logged` when they open and `communication.updated` when they change) the `call.opened` /
    /// `call.updated` that pop the call up for the staff it involves.
    var liveNames: [String] {
        guard entryType == "phone" else { return [name] }
        switch name {
        case "communication.logged" where status == "open": return ["call.opened", name]
        case "communication.updated": return ["call.updated", name]
        default: return [name]
        }
    }

    init?(_ delivery: AMQPDelivery) {
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any],
              let organisation = envelope["organisation_id"] as? String,
              let data = envelope["data"] as? [String: Any],
              let rawID = data["communication_id"] as? String, let id = UUID(uuidString: rawID),
              let json = try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        name = (envelope["type"] as? String) ?? delivery.routingKey
        organisationID = organisation
        communicationID = id
        staffIDs = (data["staff_ids"] as? [String]) ?? []
        entryType = data["type"] as? String
        status = data["status"] as? String
        self.data = String(decoding: json, as: UTF8.self)
    }
}
