import CommlogDomain
import CommlogRuntime
import Foundation
import LogStore
import Logging
import Messaging
import Metrics
import PostgresNIO
import Storage

/// Logs a batch of the practice software's events in one transaction.
///
/// Events that can never be processed (bad JSON, a missing field, an unknown organisation) are rejected
/// with their reason and dead-lettered; everything else in the batch commits together. After the commit,
/// `communication.logged` is announced for every new entry.
struct PracticeEventHandler: BatchHandler {
    let database: Database
    let announcer: Announcer
    let logger: Logger
    /// Who may publish for which organisation (`COMMLOG_AMQP_PUBLISHERS`).
    var publishers = PublisherPolicy.open

    /// What became of one event, for the metrics.
    enum Outcome: String {
        /// `merged`: an email a mailbox had imported already (same Message-ID), completed by the event.
        case logged, duplicate, merged, directory, statement
        case skippedChannel = "skipped_channel", skippedLoggingOff = "skipped_logging_off"
    }

    /// A metric's dimensions: events of a type with an outcome.
    private struct Tally: Hashable {
        let type: EventType
        let outcome: Outcome
    }

    /// Batches in flight unless `COMMLOG_CONSUMER_CONCURRENCY` says otherwise: directory changes still run
    /// alone and in order (`isOrderingBarrier`), and on two cores four give about a third more throughput than one.
    static let defaultConcurrency = 4

    /// Directory changes decide how later events are logged (an organisation's existence, a location's logging
    /// switch, staff and clients to match): batches holding one are never overtaken.
    func isOrderingBarrier(_ delivery: AMQPDelivery) -> Bool {
        delivery.routingKey.hasPrefix("practice.directory.")
    }

    func handle(_ batch: [AMQPDelivery]) async throws -> [Rejection] {
        var rejections: [Rejection] = []
        var byOrganisation: [(organisation: String, events: [(index: Int, event: InboundEvent)])] = []
        var position: [String: Int] = [:]
        for (index, delivery) in batch.enumerated() {
            do {
                let event = try InboundEvent.decode(delivery.body, routingKey: delivery.routingKey)
                if let refusal = publishers.refusal(userID: delivery.properties.userID, for: event.organisationID) {
                    rejections.append(Rejection(index: index, reason: refusal))
                    continue
                }
                if let at = position[event.organisationID] {
                    byOrganisation[at].events.append((index, event))
                } else {
                    position[event.organisationID] = byOrganisation.count
                    byOrganisation.append((event.organisationID, [(index, event)]))
                }
            } catch {
                rejections.append(Rejection(index: index, reason: "\(error)"))
            }
        }
        let (logged, completed, outcomes, refused) = try await database.withTransaction { connection in
            var logged: [LoggedCommunication] = []
            var completed: [(organisation: String, notice: CommunicationChanged)] = []
            var outcomes: [(EventType, Outcome)] = []
            var refused: [Rejection] = []
            for (organisation, events) in byOrganisation {
                try await connection.setTenant(organisation, logger: logger)
                let result = try await OrganisationBatch(organisationID: organisation, connection: connection, logger: logger).apply(events)
                logged += result.logged
                completed += result.completed.map { (organisation, $0) }
                outcomes += result.outcomes
                refused += result.rejections
            }
            return (logged, completed, outcomes, refused)
        }
        // One counter update per kind of outcome in the batch, not per event: looking a counter up takes a lock.
        var tally: [Tally: Int] = [:]
        for (type, outcome) in outcomes { tally[Tally(type: type, outcome: outcome), default: 0] += 1 }
        for (kind, count) in tally {
            Counter(label: "commlog_practice_events_total", dimensions: [("type", kind.type.rawValue), ("outcome", kind.outcome.rawValue)]).increment(by: count)
        }
        announce(logged, completed: completed)
        return rejections + refused
    }

    /// Hands `communication.logged` for the new entries, and `communication.updated` for the emails their event
    /// completed, to the announcer. The entries are committed whatever happens to the announcements: live views
    /// are a convenience.
    private func announce(_ logged: [LoggedCommunication], completed: [(organisation: String, notice: CommunicationChanged)]) {
        guard !logged.isEmpty || !completed.isEmpty else { return }
        do {
            announcer.announce(try logged.map { try $0.announcement().outgoing() } + completed.map { completed in
                try EventEnvelope(type: .communicationUpdated, organisationID: completed.organisation, data: completed.notice).outgoing()
            })
        } catch {
            logger.warning("could not encode communication.logged", metadata: ["error": "\(error)", "entries": "\(logged.count)"])
        }
    }
}

/// The events of one organisation within a batch, applied in the transaction (tenant already set).
struct OrganisationBatch {
    let organisationID: String
    let connection: PostgresConnection
    let logger: Logger

    struct Result {
        var logged: [LoggedCommunication] = []
        /// Entries a mailbox had logged that an email event completed (`SameMessage`).
        var completed: [CommunicationChanged] = []
        var outcomes: [(EventType, PracticeEventHandler.Outcome)] = []
        var rejections: [Rejection] = []
    }

    func apply(_ events: [(index: Int, event: InboundEvent)]) async throws -> Result {
        var result = Result()
        let directory = DirectoryWriter(connection: connection, logger: logger)
        // The organisation itself first: the batch's other events may need it.
        for (_, event) in events where event.type == .organisationUpserted {
            try await directory.apply(event)
        }
        guard let organisationLogging = try await organisationLoggingEnabled() else {
            for (index, event) in events where event.type != .organisationUpserted {
                result.rejections.append(Rejection(index: index, reason: "organisation_id: unknown organisation \"\(organisationID)\" (publish practice.directory.organisation.upserted first)",
                                  mayWaitForPrerequisite: true))
            }
            return result
        }
        var sendEvents: [InboundEvent] = []
        for (_, event) in events {
            switch event {
            case .organisationUpserted:
                result.outcomes.append((event.type, .directory))
            case .locationUpserted, .staffUpserted, .clientUpserted, .patientUpserted, .connectionUpserted, .directoryDeleted:
                try await directory.apply(event)
                result.outcomes.append((event.type, .directory))
            case .statementSent:
                result.outcomes.append((event.type, .statement))
            case .reminderSent(let envelope) where !envelope.data.isLogged:
                result.outcomes.append((event.type, .skippedChannel))
            case .reminderSent, .emailSent, .smsSent, .smsReceived:
                sendEvents.append(event)
            case .phoneCallEvent, .communicationLogged, .communicationUpdated:
                preconditionFailure("\(event.type) cannot arrive with a practice routing key")
            }
        }
        // The logging switch is read after the batch's directory changes, as of the end of the batch.
        let switches = try await locationSwitches()
        var entries: [NewCommunication] = []
        var loggedTypes: [String: EventType] = [:]
        var htmlOfEmail: [String: String] = [:]
        let builder = try await entryBuilder(for: sendEvents)
        for event in sendEvents {
            let location: String? = switch event {
            case .reminderSent(let envelope): envelope.data.locationID
            case .emailSent(let envelope): envelope.data.locationID
            case .smsSent(let envelope): envelope.data.locationID
            case .smsReceived(let envelope): envelope.data.locationID
            default: nil
            }
            guard (location.flatMap { switches[$0] } ?? nil) ?? organisationLogging else {
                result.outcomes.append((event.type, .skippedLoggingOff))
                continue
            }
            let entry: NewCommunication? = switch event {
            case .reminderSent(let envelope): builder.entry(for: envelope)
            case .emailSent(let envelope): builder.entry(for: envelope)
            case .smsSent(let envelope): builder.entry(for: envelope)
            case .smsReceived(let envelope): builder.entry(for: envelope)
            default: nil
            }
            if let entry {
                entries.append(entry)
                loggedTypes[entry.sourceRef] = event.type
                if case .emailSent(let envelope) = event, let html = envelope.data.bodyHTML?.storable, !html.isEmpty { htmlOfEmail[entry.sourceRef] = html }
            }
        }
        // An email a mailbox imported already (same Message-ID) is completed by its event instead.
        let sameMessage = SameMessage(connection: connection, logger: logger)
        let sorting = try await sameMessage.sort(entries)
        result.logged = try await CommunicationWriter.insert(sorting.insert, on: connection, logger: logger)
        // An email's HTML body is kept as it was sent, for a page to show in a sandbox; its text is the content.
        try await CommunicationWriter.keepContents(result.logged.compactMap { logged in
            htmlOfEmail[logged.entry.sourceRef].map { (logged.id, nil, $0) }
        }, on: connection, logger: logger)
        var merged = Set<String>()
        for (event, entryID) in sorting.complete {
            merged.insert(event.sourceRef)
            if try await sameMessage.complete(entryID, withPracticeEvent: event, html: htmlOfEmail[event.sourceRef]),
               let notice = try await EntryLog(connection: connection, logger: logger).notice(entryID) {
                result.completed.append(notice)
            }
        }
        // The same event twice in one batch is inserted once: the first counts as logged, the others as duplicates.
        var new = Set(result.logged.map(\.entry.sourceRef))
        for entry in entries {
            let outcome: PracticeEventHandler.Outcome = new.remove(entry.sourceRef) != nil ? .logged : merged.remove(entry.sourceRef) != nil ? .merged : .duplicate
            result.outcomes.append((loggedTypes[entry.sourceRef]!, outcome))
        }
        return result
    }

    /// The organisation's own logging switch; nil when the directory does not know the organisation.
    private func organisationLoggingEnabled() async throws -> Bool? {
        for try await enabled in try await connection.query(
            "SELECT logging_enabled FROM organisations WHERE id = \(organisationID) AND deleted_at IS NULL", logger: logger
        ).decode(Bool.self) {
            return enabled
        }
        return nil
    }

    /// Each location's switch: true or false, or nil to follow the organisation.
    private func locationSwitches() async throws -> [String: Bool?] {
        var switches: [String: Bool?] = [:]
        for try await (id, enabled) in try await connection.query(
            "SELECT id, logging_enabled FROM locations WHERE organisation_id = \(organisationID) AND deleted_at IS NULL", logger: logger
        ).decode((String, Bool?).self) {
            switches[id] = enabled
        }
        return switches
    }

    /// Looks up, in two queries, every address and patient the send events mention.
    private func entryBuilder(for events: [InboundEvent]) async throws -> PracticeEntries {
        var emails = Set<String>(), phones = Set<String>(), patients = Set<String>()
        for event in events {
            switch event {
            case .reminderSent(let envelope):
                envelope.data.patientID.map { patients.insert($0) }
                if let address = envelope.data.address {
                    if envelope.data.channel == .sms { ContactAddress.phone(address).map { phones.insert($0) } }
                    else { ContactAddress.email(address).map { emails.insert($0) } }
                }
            case .emailSent(let envelope):
                let data = envelope.data
                for address in [data.from] + data.to + data.cc + data.bcc { ContactAddress.email(address).map { emails.insert($0) } }
                for document in data.documents where document.owner == .patient { patients.insert(document.id) }
                data.patientID.map { patients.insert($0) }
            case .smsSent(let envelope):
                ContactAddress.phone(envelope.data.to).map { phones.insert($0) }
                envelope.data.patientID.map { patients.insert($0) }
            case .smsReceived(let envelope):
                ContactAddress.phone(envelope.data.from).map { phones.insert($0) }
                envelope.data.patientID.map { patients.insert($0) }
            default:
                break
            }
        }
        let addresses = try await AddressBook.load(emails: emails, phones: phones, on: connection, logger: logger)
        var clientOfPatient: [String: String] = [:]
        if !patients.isEmpty {
            for try await (patient, client) in try await connection.query(
                "SELECT id, client_id FROM patients WHERE organisation_id = \(organisationID) AND id = ANY(\(Array(patients))) AND client_id IS NOT NULL",
                logger: logger
            ).decode((String, String).self) {
                clientOfPatient[patient] = client
            }
        }
        return PracticeEntries(addresses: addresses, clientOfPatient: clientOfPatient)
    }
}
