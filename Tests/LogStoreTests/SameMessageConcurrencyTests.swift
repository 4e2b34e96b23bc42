import CommlogDomain
import Foundation
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport

/// `SameMessage` when the practice software's event and a mailbox's copy of one email are logged at the same
/// moment, by two programs in two transactions: the second waits for the first's Message-ID lock, then sees its
/// entry and completes it, so the message is one entry.
@Suite("LogStore: one message logged by two sources at once")
struct SameMessageConcurrencyTests {
    static func email(_ organisation: String, source: CommunicationSource, messageID: String, ref: String) -> NewCommunication {
        NewCommunication(
            organisationID: organisation, type: .email, direction: .outbound, occurredAt: Date(), clientID: "c-1",
            authorStaffID: source == .practice ? "s-1" : nil, reason: source == .practice ? .adHocEmail : nil, subject: "Lab results",
            content: "Dear Ann", source: source, sourceRef: ref,
            participants: [
                Participant(role: .from, kind: .external, id: nil, address: "clinic@example.org", name: nil),
                Participant(role: .to, kind: .external, id: nil, address: "ann@example.org", name: nil),
            ] + (source == .mailbox ? [Participant(role: .cc, kind: .external, id: nil, address: "tom@example.org", name: nil)] : []),
            messageID: messageID
        )
    }

    @Test("the second transaction waits for the first's lock and completes its entry instead of logging another")
    func concurrentSources() async throws {
        try await TestEnvironment.withDatabase { database in
            let organisation = TestEnvironment.unique("org-same")
            let messageID = "\(UUID().uuidString.lowercased())@example.org"
            let (locked, firstLocked) = AsyncStream<Void>.makeStream()
            let (released, release) = AsyncStream<Void>.makeStream()
            // The practice event: sorted (its Message-ID locked), inserted, then held open until told to commit.
            let practice = Task {
                try await database.withTenant(organisation) { connection in
                    let sorting = try await SameMessage(connection: connection, logger: database.logger)
                        .sort([Self.email(organisation, source: .practice, messageID: messageID, ref: "event-1")])
                    _ = try await CommunicationWriter.insert(sorting.insert, on: connection, logger: database.logger)
                    firstLocked.yield()
                    for await _ in released { break }
                }
            }
            for await _ in locked { break }
            // The mailbox's copy in a transaction of its own: it must wait for the practice event's commit.
            let start = ContinuousClock.now
            let mailbox = Task {
                try await database.withTenant(organisation) { connection -> (inserted: Int, completed: Int, waited: Duration) in
                    let same = SameMessage(connection: connection, logger: database.logger)
                    let sorting = try await same.sort([Self.email(organisation, source: .mailbox, messageID: messageID, ref: "message-id:\(messageID)")])
                    let waited = ContinuousClock.now - start
                    let inserted = try await CommunicationWriter.insert(sorting.insert, on: connection, logger: database.logger)
                    for (copy, id) in sorting.complete {
                        _ = try await same.complete(id, withMailboxCopy: copy, raw: Array("raw message".utf8), html: nil)
                    }
                    return (inserted.count, sorting.complete.count, waited)
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            release.finish()
            try await practice.value
            let outcome = try await mailbox.value
            #expect(outcome.inserted == 0 && outcome.completed == 1)
            #expect(outcome.waited >= .milliseconds(400), "the copy waited for the event's lock (\(outcome.waited))")
            let entries = try await database.withTenant(organisation) { connection in
                try await EntryReader(connection: connection, logger: database.logger).entries()
            }
            #expect(entries.count == 1)
            #expect(entries.first?.source == .practice && entries.first?.authorStaffID == "s-1")
            #expect(entries.first?.participants.contains { $0.role == .cc && $0.address == "tom@example.org" } == true)
        }
    }
}
