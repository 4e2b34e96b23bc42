import CommlogDomain
import CommlogRuntime
import Foundation
import LogStore
import Logging
import MIME
import Messaging
import Metrics
import PostgresNIO
import Storage

/// Logs a batch of fetched messages in one transaction: parses each with GMime, matches its addresses,
/// inserts it once per organisation (on its Message-ID) and keeps the raw message and the HTML.
///
/// A message that cannot be parsed, or lacks the poller's headers, is rejected with its reason and dead-lettered.
struct MailMessageHandler: BatchHandler {
    let database: Database
    let announcer: Announcer?
    let logger: Logger
    /// The broker user email-ingestor publishes fetched mail with: mail from any other publisher is refused, so
    /// nobody with broker access can slip a message into an organisation's log. Nil: not checked.
    var fetcherUser: String?

    /// Checks the publisher, reads the poller's headers and parses the message: while the batch before commits.
    func prepare(_ delivery: AMQPDelivery) -> Result<EmailEntry, any Error> {
        Result {
            if let fetcherUser, delivery.properties.userID != fetcherUser {
                throw FetchedMessageError("publisher: mail.message.fetched is taken only from email-ingestor's broker user \(fetcherUser) (got \(delivery.properties.userID ?? "no user_id"))")
            }
            let fetched = try FetchedMessage(delivery)
            return EmailEntry(fetched: fetched, message: try MIMEParser.parse(fetched.raw))
        }
    }

    /// The message's key in its organisation (its Message-ID, or its hash without one) and its normalised
    /// Message-ID: two copies of a message, or two messages with one Message-ID, are never written at the same
    /// time, and the one delivered first is the one logged under the plain key (the other is merged, skipped
    /// or logged apart after it).
    func orderingKeys(_ delivery: AMQPDelivery, prepared: Result<EmailEntry, any Error>) -> [String] {
        guard case .success(let entry) = prepared else { return [] }
        let organisation = entry.fetched.organisationID
        return ["\(organisation) \(entry.sourceRef)"] + (MessageID.normalised(entry.message.messageID?.storable).map { ["\(organisation) \($0)"] } ?? [])
    }

    func handle(_ batch: [AMQPDelivery], prepared: [Result<EmailEntry, any Error>]) async throws -> [Rejection] {
        var rejections: [Rejection] = []
        var byOrganisation: [String: [EmailEntry]] = [:]
        var order: [String] = []
        for (index, outcome) in prepared.enumerated() {
            switch outcome {
            case .success(let entry):
                let organisation = entry.fetched.organisationID
                if byOrganisation[organisation] == nil { order.append(organisation) }
                byOrganisation[organisation, default: []].append(entry)
            case .failure(let error):
                rejections.append(Rejection(index: index, reason: "\(error)"))
            }
        }
        let (logged, completed) = try await database.withTransaction { connection in
            var logged: [LoggedCommunication] = []
            var completed: [(organisation: String, notice: CommunicationChanged)] = []
            for organisation in order {
                let entries = byOrganisation[organisation] ?? []
                try await connection.setTenant(organisation, logger: logger)
                let book = try await AddressBook.load(emails: entries.reduce(into: Set<String>()) { $0.formUnion($1.addresses) }, on: connection, logger: logger)
                // A message the practice software logged already (same Message-ID) completes that entry instead.
                let sameMessage = SameMessage(connection: connection, logger: logger)
                let sorting = try await sameMessage.sort(entries.map { $0.communication(addresses: book) })
                let new = try await CommunicationWriter.insert(sorting.insert, on: connection, logger: logger)
                try await keepContents(of: new, entries: entries, on: connection)
                logged += new
                for (copy, entryID) in sorting.complete {
                    guard let entry = entries.first(where: { $0.sourceRef == copy.sourceRef }) else { continue }
                    if try await sameMessage.complete(entryID, withMailboxCopy: copy, raw: entry.fetched.raw, html: entry.message.html?.storable),
                       let notice = try await EntryLog(connection: connection, logger: logger).notice(entryID) {
                        completed.append((organisation, notice))
                    }
                }
                // A message whose Message-ID is taken by an entry with other content is logged apart, flagged.
                let collisions = try await collisions(among: entries, inserted: new, on: connection)
                if !collisions.isEmpty {
                    let apart = try await CommunicationWriter.insert(collisions.map { $0.communication(addresses: book) }, on: connection, logger: logger)
                    try await keepContents(of: apart, entries: collisions, on: connection)
                    logged += apart
                }
            }
            return (logged, completed)
        }
        let total = batch.count - rejections.count
        Counter(label: "commlog_mail_messages_total", dimensions: [("outcome", "logged")]).increment(by: logged.count)
        Counter(label: "commlog_mail_messages_total", dimensions: [("outcome", "merged")]).increment(by: completed.count)
        Counter(label: "commlog_mail_messages_total", dimensions: [("outcome", "duplicate")]).increment(by: max(0, total - logged.count - completed.count))
        Counter(label: "commlog_mail_messages_total", dimensions: [("outcome", "rejected")]).increment(by: rejections.count)
        announce(logged, completed: completed)
        return rejections
    }

    /// The entries that were not inserted because their Message-ID was taken, whose content differs from the
    /// entry that has it: each with its fingerprint set, to be logged apart.
    private func collisions(among entries: [EmailEntry], inserted: [LoggedCommunication], on connection: PostgresConnection) async throws -> [EmailEntry] {
        // The first entry of each key that was inserted is that entry itself; every other one with a Message-ID
        // was a duplicate, of the same message (skipped) or of another (a collision).
        var insertedRefs = Set(inserted.map(\.entry.sourceRef))
        let candidates = entries.filter { entry in
            entry.message.messageID != nil && insertedRefs.remove(entry.sourceRef) == nil
        }
        guard !candidates.isEmpty else { return [] }
        var stored: [String: (subject: String?, content: String?)] = [:]
        for try await (sourceRef, subject, content) in try await connection.query("""
            SELECT source_ref, subject, content FROM communications
            WHERE organisation_id = commlog_current_organisation() AND source = 'mailbox' AND source_ref = ANY(\(Array(Set(candidates.map(\.sourceRef)))))
            """, logger: logger).decode((String, String?, String?).self) {
            stored[sourceRef] = (subject, content)
        }
        return candidates.compactMap { entry in
            guard let existing = stored[entry.sourceRef] else { return nil }
            let same = (existing.subject ?? "") == (entry.message.subject?.storable ?? "")
                && ReadableText.normalised(existing.content) == ReadableText.normalised(entry.content)
            guard !same else { return nil }
            var apart = entry
            apart.collision = entry.fingerprint
            return apart
        }
    }

    /// The raw message and the HTML body of each new entry (contents.raw, contents.html).
    private func keepContents(of logged: [LoggedCommunication], entries: [EmailEntry], on connection: PostgresConnection) async throws {
        guard !logged.isEmpty else { return }
        var bySourceRef: [String: EmailEntry] = [:]
        for entry in entries where bySourceRef[entry.sourceRef] == nil { bySourceRef[entry.sourceRef] = entry }
        let contents = logged.compactMap { communication -> (communicationID: UUID, raw: [UInt8], html: String?)? in
            guard let entry = bySourceRef[communication.entry.sourceRef] else { return nil }
            return (communication.id, entry.fetched.raw, entry.message.html?.storable)
        }
        try await CommunicationWriter.keepContents(contents, on: connection, logger: logger)
    }

    /// `communication.logged` (new entries) and `communication.updated` (entries the same message completed) for
    /// live views, after the commit.
    private func announce(_ logged: [LoggedCommunication], completed: [(organisation: String, notice: CommunicationChanged)]) {
        guard let announcer, !logged.isEmpty || !completed.isEmpty else { return }
        do {
            announcer.announce(try logged.map { try $0.announcement().outgoing() } + completed.map { completed in
                try EventEnvelope(type: .communicationUpdated, organisationID: completed.organisation, data: completed.notice).outgoing()
            })
        } catch {
            logger.warning("could not encode communication.logged", metadata: ["error": "\(error)", "entries": "\(logged.count)"])
        }
    }
}
