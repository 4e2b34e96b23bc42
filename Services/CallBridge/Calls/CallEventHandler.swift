import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import Messaging
import Metrics
import PostgresNIO
import Storage

/// Applies a batch of `phone.call.event` messages to the calls in the log, in one transaction.
///
/// Each call's events are kept, and the call is recomputed from all of them, so duplicates and out-of-order
/// events give the same call. A `recording` event is handed on, after the commit and before the batch is
/// acked, to `call-bridge.recordings`, whose own consumer downloads it (`RecordingDownloadHandler`): a slow or
/// large recording never holds up calls. After the commit, `communication.logged` (a call opened) and
/// `communication.updated` are announced.
struct CallEventHandler: BatchHandler {
    let database: Database
    let announcer: Announcer
    let matcher: PartyMatcher
    /// Where recordings to download are published (with confirms).
    let publisher: AMQPConnection
    let logger: Logger
    /// Who may publish for which organisation (`COMMLOG_AMQP_PUBLISHERS`).
    var publishers = PublisherPolicy.open

    private struct CallKey: Hashable, Comparable {
        let organisationID: String
        let source: String
        let callID: String

        static func < (left: CallKey, right: CallKey) -> Bool {
            (left.organisationID, left.source, left.callID) < (right.organisationID, right.source, right.callID)
        }
    }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        var rejections: [Rejection] = []
        var calls: [CallKey: [(index: Int, event: PhoneCallEvent)]] = [:]
        var order: [CallKey] = []
        for (index, delivery) in batch.enumerated() {
            do {
                guard case .phoneCallEvent(let envelope) = try InboundEvent.decode(delivery.body, routingKey: delivery.routingKey) else {
                    rejections.append(Rejection(index: index, reason: "type: call-bridge takes phone.call.event only (got \(delivery.routingKey))"))
                    continue
                }
                if let refusal = publishers.refusal(userID: delivery.properties.userID, for: envelope.organisationID) {
                    rejections.append(Rejection(index: index, reason: refusal))
                    continue
                }
                let key = CallKey(organisationID: envelope.organisationID, source: envelope.data.source, callID: envelope.data.callID)
                if calls[key] == nil { order.append(key) }
                calls[key, default: []].append((index, envelope.data))
            } catch {
                rejections.append(Rejection(index: index, reason: "\(error)"))
            }
        }
        // Calls are locked in this order in every batch of every replica: no two batches can wait for each other.
        order.sort()
        let (changes, refused, downloads) = try await database.withTransaction { connection in
            var changes: [CallChange] = []
            var refused: [Rejection] = []
            var downloads: [Int] = []
            var known: [String: Bool] = [:]
            for key in order {
                guard let events = calls[key], !events.isEmpty else { continue }
                try await connection.setTenant(key.organisationID, logger: logger)
                if known[key.organisationID] == nil {
                    known[key.organisationID] = try await organisationExists(key.organisationID, on: connection)
                }
                guard known[key.organisationID] == true else {
                    refused += events.map {
                        Rejection(index: $0.index, reason: "organisation_id: unknown organisation \"\(key.organisationID)\" (publish practice.directory.organisation.upserted first)",
                                  mayWaitForPrerequisite: true)
                    }
                    continue
                }
                let store = CallStore(connection: connection, logger: logger)
                try await store.lock(source: key.source, callID: key.callID)
                let all = try await store.record(events.map(\.event), source: key.source, callID: key.callID)
                guard let facts = CallFacts(all) else { continue }
                let parties = try await matcher.match(facts, on: connection, logger: logger)
                let change = try await store.apply(facts, parties: parties, source: key.source, callID: key.callID)
                downloads += events.filter { $0.event.kind == .recording }.map(\.index)
                if let change {
                    changes.append(CallChange(kind: change.kind, organisationID: key.organisationID, communicationID: change.communicationID,
                                              status: change.status, clientID: change.clientID, staffIDs: change.staffIDs))
                }
            }
            return (changes, refused, downloads)
        }
        // Before the batch is acked: a failure here fails the batch, which is retried (the events are idempotent).
        try await publisher.publish(downloads.map { RecordingDownloadHandler.request(for: batch[$0]) })
        for change in changes {
            Counter(label: "commlog_calls_total", dimensions: [("change", change.kind == .opened ? "opened" : "updated"), ("status", change.status.rawValue)]).increment()
        }
        Counter(label: "commlog_call_events_total", dimensions: [("outcome", "applied")]).increment(by: batch.count - rejections.count - refused.count)
        Counter(label: "commlog_call_events_total", dimensions: [("outcome", "rejected")]).increment(by: rejections.count + refused.count)
        announce(changes)
        return rejections + refused
    }

    private func organisationExists(_ id: String, on connection: PostgresConnection) async throws -> Bool {
        for try await _ in try await connection.query(
            "SELECT 1 FROM organisations WHERE id = \(id) AND deleted_at IS NULL", logger: logger
        ).decode(Int.self) {
            return true
        }
        return false
    }

    /// `communication.logged` for a call that opened (`call.opened` for live views), `communication.updated` otherwise.
    private func announce(_ changes: [CallChange]) {
        guard !changes.isEmpty else { return }
        do {
            announcer.announce(try changes.map { change in
                try EventEnvelope(
                    type: change.kind == .opened ? .communicationLogged : .communicationUpdated,
                    organisationID: change.organisationID,
                    data: CommunicationChanged(communicationID: change.communicationID, type: .phone, status: change.status,
                                               clientID: change.clientID, staffIDs: change.staffIDs)
                ).outgoing()
            })
        } catch {
            logger.warning("could not encode call announcements", metadata: ["error": "\(error)"])
        }
    }
}
