import CommlogDomain
import CommlogRuntime
import Foundation
import LogStore
import Logging
import Messaging
import Metrics
import PostgresNIO
import Storage

/// Downloads the recordings the call consumer hands on (`call-bridge.recordings`) and stores them with their call.
///
/// Runs as its own consumer, one recording per batch and `COMMLOG_RECORDING_CONCURRENCY` at a time, so a slow
/// or large recording delays neither calls nor more than its own slot. A download streams into the database a
/// chunk at a time (`RecordingUpload`), so each holds about one chunk in memory. A recording that cannot be
/// fetched (refused, 4xx, too large, still failing after the attempts) is dead-lettered with the reason;
/// replaying it downloads it again.
struct RecordingDownloadHandler: BatchHandler {
    static let routingKey = CommlogQueues.recordings.bindings[0]

    let database: Database
    let announcer: Announcer
    let fetcher: RecordingFetcher
    let logger: Logger

    /// The message that asks for a recording: the call event as it arrived, under the recordings queue's key.
    static func request(for delivery: AMQPDelivery) -> OutgoingMessage {
        OutgoingMessage(exchange: Topology.eventsExchange, routingKey: routingKey, body: Array(delivery.body),
                        messageID: delivery.properties.messageID, timestamp: delivery.properties.timestamp)
    }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        var rejections: [Rejection] = []
        for (index, delivery) in batch.enumerated() {
            guard case .phoneCallEvent(let envelope)? = try? InboundEvent.decode(delivery.body, routingKey: nil),
                  envelope.data.kind == .recording, let url = envelope.data.recordingURL else {
                rejections.append(Rejection(index: index, reason: "body: not a phone.call.event of kind recording with a recording_url"))
                continue
            }
            let event = envelope.data
            let organisationID = envelope.organisationID
            let call = try await database.withTenant(organisationID) { connection in
                try await PhoneCallLog(connection: connection, logger: logger).communicationID(sourceRef: "\(event.source):\(event.callID)")
            }
            guard let call else { continue }
            let recording: FetchedRecording<RecordingUpload>
            do {
                recording = try await fetcher.fetch(url) { [database, logger] in
                    RecordingUpload(database: database, organisationID: organisationID, communicationID: call, logger: logger)
                }
                Counter(label: "commlog_call_recordings_total", dimensions: [("outcome", "fetched")]).increment()
            } catch let failure as RecordingFetcher.Failure {
                Counter(label: "commlog_call_recordings_total", dimensions: [("outcome", "failed")]).increment()
                rejections.append(Rejection(index: index, reason: failure.description))
                continue
            }
            let change = try await database.withTenant(organisationID) { connection -> CallChange? in
                let log = PhoneCallLog(connection: connection, logger: logger)
                guard try await log.storeRecording(
                    url: recording.url, contentType: recording.contentType, upload: recording.sink, communicationID: call
                ), let now = try await log.announced(call) else { return nil }
                return CallChange(kind: .updated, organisationID: organisationID, communicationID: call, status: now.status,
                                  clientID: now.clientID, staffIDs: now.staffIDs)
            }
            if let change {
                announcer.announce(try [EventEnvelope(
                    type: .communicationUpdated, organisationID: envelope.organisationID,
                    data: CommunicationChanged(communicationID: change.communicationID, type: .phone, status: change.status,
                                               clientID: change.clientID, staffIDs: change.staffIDs)
                ).outgoing()])
            }
        }
        return rejections
    }
}

extension RecordingUpload: RecordingSink {}
