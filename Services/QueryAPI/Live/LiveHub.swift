import CommlogDomain
import Foundation
import Logging
import Tracing
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
        /// When each organisation last had a stream open here: notices of others are not read at all.
        var lastWatched: [String: ContinuousClock.Instant] = [:]
    }

    /// How long after its last stream closed an organisation's events are still read and kept for a client
    /// reconnecting with `Last-Event-ID`.
    static let replayWindow: Duration = .seconds(120)

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
                if let closed = state.subscribers.removeValue(forKey: id) { state.lastWatched[closed.caller.organisationID] = .now }
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
        do {
            try await cancelWhenGracefulShutdown { [connection, queue] in
                try await connection.declare(Topology(exchanges: [.init(name: Topology.eventsExchange)], queues: [queue]))
            }
        } catch is CancellationError where Task.isShuttingDownGracefully || Task.isCancelled {
            return
        }
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

    /// Writes a comment to every stream now and then, so that proxies and clients know it is alive, and closes
    /// each stream within a second of its token's expiry (the client reconnects, and must bring a valid token).
    private func beat() async {
        let tick = min(heartbeat, .seconds(1))
        var lastBeat = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: tick) } catch { return }
            let now = Date()
            let (expired, alive) = state.withLock { state in
                let subscribers = Array(state.subscribers.values)
                return (subscribers.filter { $0.caller.expiresAt <= now }.map(\.continuation),
                        subscribers.filter { $0.caller.expiresAt > now }.map(\.continuation))
            }
            for continuation in expired { continuation.finish() }
            if !expired.isEmpty { Counter(label: "commlog_live_streams_expired_total").increment(by: expired.count) }
            guard ContinuousClock.now - lastBeat >= heartbeat else { continue }
            lastBeat = .now
            for continuation in alive { continuation.yield(ByteBuffer(string: ": keep-alive\n\n")) }
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
        // Every entry logged anywhere is announced: only organisations with a stream here, or one that closed
        // moments ago (its client may come back with Last-Event-ID), cost a read of the entry.
        let watched = state.withLock { state -> Bool in
            if state.subscribers.values.contains(where: { $0.caller.organisationID == notice.organisationID }) { return true }
            guard let last = state.lastWatched[notice.organisationID] else { return false }
            if ContinuousClock.now - last < Self.replayWindow { return true }
            state.lastWatched[notice.organisationID] = nil
            return false
        }
        guard watched else {
            Counter(label: "commlog_live_events_total", dimensions: [("outcome", "unwatched")]).increment()
            return
        }
        // The end of the notice's trace (the webhook or practice event that made the entry): sending it to streams.
        await withSpan("live \(delivery.routingKey)", context: MessageTracing.context(of: delivery), ofKind: .consumer) { span in
            span.attributes["commlog.organisation_id"] = notice.organisationID
            await send(notice)
        }
    }

    /// Reads the notice's entry and sends it to the streams of those who may see it.
    private func send(_ notice: Notice) async {
        // Anyone with broker access can publish a notice: what goes out is read from the organisation's own
        // entry, and a notice naming no entry of that organisation goes nowhere.
        let entry: Entry?
        do {
            entry = try await self.entry(of: notice)
        } catch {
            logger.warning("could not read the entry of a live event", metadata: ["error": "\(error)", "communication": "\(notice.communicationID)"])
            Counter(label: "commlog_live_events_total", dimensions: [("outcome", "unreadable")]).increment()
            return
        }
        guard let entry else {
            Counter(label: "commlog_live_events_total", dimensions: [("outcome", "unknown_entry")]).increment()
            return
        }
        let delivered = state.withLock { state -> Int in
            var delivered = 0
            for name in notice.liveNames(entryType: entry.type, status: entry.status) {
                state.sequence += 1
                let event = Event(
                    id: "\(Int64(Date().timeIntervalSince1970 * 1000))-\(state.sequence)", name: name, organisationID: notice.organisationID,
                    data: entry.data, isCall: name.hasPrefix("call."), involved: entry.involved, related: entry.related
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
        logger.debug("live event sent", metadata: ["communication": "\(notice.communicationID)", "streams": "\(delivered)"])
    }

    /// The entry a notice names, as the organisation's log has it now.
    struct Entry: Sendable {
        let type: String
        let status: String
        /// The event's data: the entry's id, type, status, client and the staff it involves.
        let data: String
        /// The staff the entry involves: author and staff participants (handler, related…).
        let involved: Set<String>
        /// The staff related to its client or its patient's client.
        let related: Set<String>
    }

    /// Reads the entry under the organisation's row-level security; nil when the organisation has no such entry.
    private func entry(of notice: Notice) async throws -> Entry? {
        try await database.withTenant(notice.organisationID) { connection in
            let rows = try await connection.query("""
                SELECT c.type::text, c.status::text, c.client_id,
                       array_remove(array_append(array(SELECT p.ref_id FROM participants p WHERE p.organisation_id = c.organisation_id
                           AND p.communication_id = c.id AND p.kind = 'staff' AND p.ref_id IS NOT NULL), c.author_staff_id), NULL),
                       array(SELECT r.staff_id FROM related_staff r WHERE r.organisation_id = c.organisation_id
                           AND (r.client_id = c.client_id OR r.client_id = (SELECT pt.client_id FROM patients pt
                                WHERE pt.organisation_id = c.organisation_id AND pt.id = c.patient_id)))
                FROM communications c WHERE c.organisation_id = \(notice.organisationID) AND c.id = \(notice.communicationID)
                """, logger: logger)
            for try await (type, status, clientID, involved, related) in rows.decode((String, String, String?, [String], [String]).self) {
                let staff = Array(Set(involved)).sorted()
                var data = JSONWriter(capacity: 256)
                data.raw("{\"client_id\":")
                data.string(clientID)
                data.raw(",\"communication_id\":")
                data.uuid(notice.communicationID)
                data.raw(",\"staff_ids\":")
                data.array(staff) { json, id in json.string(id) }
                data.raw(",\"status\":")
                data.string(status)
                data.raw(",\"type\":")
                data.string(type)
                data.raw("}")
                return Entry(type: type, status: status, data: String(decoding: data.bytes, as: UTF8.self), involved: Set(involved), related: Set(related))
            }
            return nil
        }
    }
}

/// A broker notification as the hub reads it: which entry of which organisation changed, and how. Only the
/// notifications the live stream knows are read; the rest of the notice is not trusted (see `LiveHub.entry`).
struct Notice: Sendable {
    /// `communication.logged` or `communication.updated` (or `call.opened` / `call.updated`, published as such).
    let name: String
    let organisationID: String
    let communicationID: UUID

    static let names: Set<String> = ["communication.logged", "communication.updated", "call.opened", "call.updated"]

    /// The live events this notification gives: itself, and for a call (call-bridge announces calls as
    /// `communication.logged` when they open and `communication.updated` when they change) the `call.opened` /
    /// `call.updated` that pop the call up for the staff it involves.
    func liveNames(entryType: String, status: String) -> [String] {
        if name.hasPrefix("call.") { return entryType == "phone" ? [name] : [] }
        guard entryType == "phone" else { return [name] }
        switch name {
        case "communication.logged" where status == "open": return ["call.opened", name]
        case "communication.updated": return ["call.updated", name]
        default: return [name]
        }
    }

    /// The envelope as the hub reads it: the Domain's change notice, under an event name it checks itself
    /// (`call.opened` and `call.updated` are names of the live stream, not of the AMQP contract's `EventType`).
    /// One decoder for every notice (made once, not per announcement).
    private static let decoder = ContractCoding.makeDecoder()

    private struct Envelope: Decodable {
        let type: String?
        let organisationID: String
        let data: CommunicationChanged

        enum CodingKeys: String, CodingKey {
            case type, data
            case organisationID = "organisation_id"
        }
    }

    init?(_ delivery: AMQPDelivery) {
        guard let envelope = try? Self.decoder.decode(Envelope.self, from: Data(delivery.body)),
              !envelope.organisationID.isEmpty, !envelope.organisationID.contains("\u{0}")
        else { return nil }
        let name = envelope.type ?? delivery.routingKey
        guard Self.names.contains(name), name == delivery.routingKey else { return nil }
        self.name = name
        organisationID = envelope.organisationID
        communicationID = envelope.data.communicationID
    }
}
