import CommlogDomain
import CommlogRuntime
import Integrations
import LogStore
@testable import EmailIngestor
import Crypto
import Foundation
import IMAP
import PostgresNIO
import Storage
import Testing
import TestSupport

extension EmailIngestorProcesses {
    /// The ingestor against the real Dovecot: each test imports folders of its own into an organisation of its own.
    @Suite("Mailbox import", .serialized)
    struct MailboxImportTests {
        @Test("inbound and outbound with CC: participants matched, client chosen, messages left unread, raw kept")
        func inboundAndOutbound() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.addContact("ann@example.org", kind: "client", id: "c-ann")
                try await harness.addContact("bob@example.org", kind: "connection", id: "k-bob")
                try await harness.addContact("vet@example.org", kind: "staff", id: "s-vet")
                try await harness.imap.append(TestMessages.simple(from: "Ann Client <Ann@Example.org>", cc: "Bob <bob@example.org>", subject: "Question"), to: inbox)
                try await harness.imap.append(TestMessages.nested, to: sent)
                try await harness.addMailbox(inbound: inbox, outbound: sent)

                let entries = try await harness.entries { $0.count >= 2 }
                #expect(entries.count == 2)
                let inbound = try #require(entries.first { $0.direction == .inbound })
                #expect(inbound.subject == "Question")
                #expect(inbound.clientID == "c-ann")
                #expect(inbound.address == "ann@example.org")
                #expect(inbound.content?.contains("Bella is doing well.") == true)
                #expect(inbound.participants.map(\.role) == [.from, .to, .cc])
                #expect(inbound.participants.first { $0.role == .cc }?.kind == .connection)
                #expect(inbound.participants.first { $0.role == .to }?.kind == .external)

                let outbound = try #require(entries.first { $0.direction == .outbound })
                #expect(outbound.subject == "Results")
                #expect(outbound.clientID == "c-ann")
                #expect(outbound.sourceRef == "message-id:nested@test.example")
                #expect(outbound.content?.contains("Plain results.") == true)
                let cc = outbound.participants.filter { $0.role == .cc }
                #expect(cc.map(\.kind) == [.connection, .staff])
                #expect(cc.map(\.id) == ["k-bob", "s-vet"])
                #expect(outbound.attachments.map(\.name) == ["résultats été.pdf", "Bélla.png", "Lab report.eml"])
                #expect(outbound.notes?.contains("résultats été.pdf") == true)
                #expect(try await harness.raw(of: outbound.id) == TestMessages.nested)

                #expect(try await harness.imap.seenCount(inbox) == 0)
                #expect(try await harness.imap.seenCount(sent) == 0)
            }
        }

        @Test("without folder overrides: INBOX is inbound and the folder flagged \\Sent is outbound")
        func specialUseSent() async throws {
            try await IngestorHarness.run { harness in
                let other = try await TestIMAP.open(other: true)
                let tag = TestEnvironment.unique("special")
                let inbound = try await other.appendRemovable(TestMessages.simple(subject: "In \(tag)"), to: "INBOX")
                let outbound = try await other.appendRemovable(
                    TestMessages.simple(from: "other@example.org", to: "Ann <ann@example.org>", subject: "Out \(tag)"), to: "Sent"
                )
                try await harness.addMailbox(address: "other@example.org", user: other.user, password: other.password, inbound: nil, outbound: nil)
                let entries = try await harness.entries { entries in entries.filter { $0.subject?.hasSuffix(tag) == true }.count == 2 }
                #expect(entries.first { $0.subject == "In \(tag)" }?.direction == .inbound)
                #expect(entries.first { $0.subject == "Out \(tag)" }?.direction == .outbound)
                #expect(entries.first { $0.subject == "Out \(tag)" }?.address == "ann@example.org")
                await other.remove(inbound)
                await other.remove(outbound)
                await other.connection.close()
            }
        }

        @Test("encodings, HTML only, S/MIME and a message without Message-ID")
        func encodings() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                let noID = TestMessages.simple(messageID: nil, subject: "No id")
                for message in [TestMessages.latin1QuotedPrintable, TestMessages.shiftJISBase64, TestMessages.htmlOnly, TestMessages.smime, noID] {
                    try await harness.imap.append(message, to: inbox)
                }
                try await harness.addMailbox(inbound: inbox, outbound: sent)
                let entries = try await harness.entries { $0.count >= 5 }
                #expect(entries.count == 5)
                #expect(entries.contains { $0.content?.contains("Grüße aus Köln") == true && $0.participants.first?.name == "Renée Müller" })
                #expect(entries.contains { $0.subject == "こんにちは" && $0.content?.contains("猫は元気です") == true })
                let html = try #require(entries.first { $0.subject == "HTML only" })
                #expect(html.content?.contains("Hello there") == true)
                #expect(html.content?.contains("<p>") == false)
                let smime = try #require(entries.first { $0.subject == "Secret" })
                #expect(smime.notes?.contains("S/MIME") == true)
                #expect(smime.attachments.first?.contentType == "application/pkcs7-mime")
                let withoutID = try #require(entries.first { $0.subject == "No id" })
                #expect(withoutID.sourceRef?.hasPrefix("sha256:") == true)
            }
        }

        @Test("bytes that are no RFC 5322 message (no header, NUL characters) are logged with what they have, and the mailbox moves on")
        func malformed() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.malformed, to: inbox)
                try await harness.imap.append(TestMessages.simple(subject: "After the bad one"), to: inbox)
                _ = try await harness.addMailbox(inbound: inbox, outbound: sent)
                let entries = try await harness.entries { $0.count == 2 }
                #expect(entries.contains { $0.subject == "After the bad one" })
                let odd = try #require(entries.first { $0.subject == nil })
                #expect(odd.content?.contains("garbage without any header") == true)
                #expect(odd.content?.contains("\u{FFFD}") == true, "the NUL is kept visible, not dropped silently")
            }
        }

        @Test("the corpus of odd messages through a real IMAP server: every message logged with what a mail client shows; mail from the mailbox's own address or an alias is outbound in INBOX too")
        func oddMessages() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                for message in MailCorpus.messages { try await harness.imap.append(message.raw, to: inbox) }
                let own = try #require(MailCorpus.messages.first { $0.name == "sent from the mailbox's own address" })
                try await harness.imap.append(own.raw, to: sent)
                try await harness.imap.append(TestMessages.simple(from: "Reception <reception@example.org>", to: "Ann <ann@example.org>", subject: "From the alias"), to: inbox)
                _ = try await harness.addMailbox(address: MailCorpus.mailboxAddress, inbound: inbox, outbound: sent, aliases: ["reception@example.org"])
                let entries = try await harness.entries { $0.count == MailCorpus.messages.count + 1 }
                #expect(entries.count == MailCorpus.messages.count + 1)
                #expect(entries.first { $0.subject == "From the alias" }?.direction == .outbound, "mail from an alias of the mailbox is outbound")
                let expected = try MailCorpus.messages.map { try ReferenceParserTests.ours($0.raw) }
                for reading in expected {
                    let entry = entries.first { ($0.subject ?? "") == (reading.subject ?? "") && ReferenceParserTests.normalised($0.content) == reading.text }
                    #expect(entry != nil, "no entry with subject \(reading.subject ?? "none") and text \(reading.text ?? "none")")
                }
                #expect(entries.first { $0.subject == "Your appointment" }?.direction == .outbound)
                #expect(entries.first { $0.subject == "Missing blank line" }?.direction == .inbound)
                let odd = try #require(entries.first { $0.subject == "Odd recipients" })
                #expect(odd.participants.filter { $0.role == .to }.map(\.address) == ["foo", "undisclosed-recipients:;"])
            }
        }

        @Test("a different message reusing a Message-ID already seen is logged apart and flagged; the same message again is not")
        func reusedMessageID() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                let id = "<reused-\(UUID().uuidString.lowercased())@test.example>"
                let original = TestMessages.simple(messageID: id, subject: "Your results", body: "All fine.")
                try await harness.imap.append(original, to: inbox)
                _ = try await harness.addMailbox(inbound: inbox, outbound: sent)
                _ = try await harness.entries { $0.count == 1 }
                // Seen: now another message under its id, and the original's copy in Sent. (Appended together, the
                // two could reach two consumers of the queue, other tests' or another replica's, in either order.)
                try await harness.imap.append(TestMessages.simple(messageID: id, subject: "Your results", body: "Please call us urgently."), to: inbox)
                try await harness.imap.append(original, to: sent)
                _ = try await harness.entries { $0.count >= 2 }
                // The copy in Sent is imported too, and must not make a third entry.
                try await Task.sleep(for: .seconds(2))
                let settled = try await harness.entries()
                #expect(settled.count == 2, "\(settled.map(\.sourceRef))")
                let first = try #require(settled.first { $0.content?.contains("All fine.") == true })
                let second = try #require(settled.first { $0.content?.contains("urgently") == true })
                #expect(first.notes?.contains("Flagged") != true)
                #expect(second.notes?.contains("Flagged: another message with the same Message-ID") == true)
                #expect(second.sourceRef?.hasPrefix("message-id:\(id.dropFirst().dropLast())#") == true)
            }
        }

        @Test("fetched mail is taken only from email-ingestor's own broker user: another publisher's is dead-lettered")
        func foreignPublisher() async throws {
            try await IngestorHarness.run(fetcherUser: "email-ingestor-elsewhere") { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Published by another user"), to: inbox)
                let validity = try await harness.imap.status(inbox).uidValidity
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent)
                let letter = try await DeadLetterProbe.waitFor(messageID: "\(mailbox.uuidString.lowercased())/\(inbox)/\(validity)/1")
                #expect(letter.reason.contains("taken only from email-ingestor's broker user"), "\(letter.reason)")
                #expect(try await harness.entries().isEmpty)
            }
        }

        @Test("a message larger than COMMLOG_MAIL_MAX_MESSAGE_BYTES is logged from its headers with a note, and the folder moves on")
        func tooLarge() async throws {
            try await IngestorHarness.run(configure: { $0.maximumMessageBytes = 4_000 }) { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Huge scan", body: String(repeating: "0123456789abcdef\n", count: 1_000)), to: inbox)
                try await harness.imap.append(TestMessages.simple(subject: "After the huge one"), to: inbox)
                _ = try await harness.addMailbox(inbound: inbox, outbound: sent)
                let entries = try await harness.entries { $0.count == 2 }
                let huge = try #require(entries.first { $0.subject == "Huge scan" })
                #expect(huge.notes?.contains("logged from its headers") == true, "\(huge.notes ?? "no notes")")
                #expect(huge.content?.contains("0123456789abcdef") != true)
                #expect(huge.participants.contains { $0.address == "ann@example.org" })
                #expect(entries.contains { $0.subject == "After the huge one" })
            }
        }

        @Test("secrets are bound to their mailbox: one sealed before binding is sealed again, bound, at login; one copied to another mailbox does not open")
        func boundSecrets() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Bound"), to: inbox)
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent, unboundSecret: true)
                #expect(try await harness.entries { $0.count == 1 }.first?.subject == "Bound")
                let sealer = SecretSealer(current: IngestorHarness.testKey)
                let resealed = try await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
                    try await harness.database.withTenant(harness.organisationID) { connection in
                        for try await ciphertext in try await connection.query("SELECT secret_ciphertext FROM mailboxes WHERE id = \(mailbox)", logger: harness.database.logger).decode(ByteBuffer.self) {
                            // Bound now: it no longer opens for another mailbox.
                            return (try? sealer.open(Array(ciphertext.readableBytesView), keyID: sealer.currentKeyID, for: .mailbox(organisation: harness.organisationID, id: UUID()))) == nil
                        }
                        return false
                    }
                }
                #expect(resealed)
                // Another mailbox of the organisation, given a copy of that secret: refused, the password never used.
                let other = try await harness.addMailbox(address: "other@example.org", inbound: inbox, outbound: sent)
                try await harness.database.withTenant(harness.organisationID) { connection in
                    try await connection.query("""
                        UPDATE mailboxes SET secret_ciphertext = (SELECT secret_ciphertext FROM mailboxes WHERE id = \(mailbox)) WHERE id = \(other)
                        """, logger: harness.database.logger)
                }
                let failure = try await harness.failure(of: other)
                #expect(failure.contains("does not open"), "\(failure)")
            }
        }

        @Test("one message in INBOX and Sent, and in a second mailbox, is one communication")
        func sameMessageTwice() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                let other = try await harness.imap.createFolder("other")
                let message = TestMessages.simple(subject: "Twice")
                try await harness.imap.append(message, to: inbox)
                try await harness.imap.append(message, to: sent)
                try await harness.imap.append(message, to: other)
                let noID = TestMessages.simple(messageID: nil, subject: "Twice without id")
                try await harness.imap.append(noID, to: inbox)
                try await harness.imap.append(noID, to: sent)
                let first = try await harness.addMailbox(inbound: inbox, outbound: sent)
                let second = try await harness.addMailbox(address: "second@example.org", inbound: other, outbound: sent)
                try await waitUntil("done", timeout: .seconds(30)) {
                    let sentDone = try await harness.progress(of: first, folder: sent)?.lastUID == 2
                    let otherDone = try await harness.progress(of: second, folder: other)?.lastUID == 1
                    return sentDone && otherDone
                }
                try await Task.sleep(for: .seconds(1))
                let entries = try await harness.entries()
                #expect(entries.compactMap(\.subject).sorted() == ["Twice", "Twice without id"])
            }
        }

        @Test("a new message appears within seconds through IDLE")
        func idle() async throws {
            try await IngestorHarness.run(configure: { $0.pollInterval = .seconds(60); $0.leaseTTL = .seconds(60) }) { harness in
                let (inbox, sent) = try await harness.folders()
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent)
                // The first check is done (and the poller is idling) once the folder's progress is recorded.
                try await waitUntil("Sent recorded") { try await harness.progress(of: mailbox, folder: sent) != nil }
                try await Task.sleep(for: .milliseconds(500))
                let appended = ContinuousClock.now
                try await harness.imap.append(TestMessages.simple(subject: "Pushed"), to: inbox)
                let entries = try await harness.entries(timeout: .seconds(8)) { !$0.isEmpty }
                #expect(entries.map(\.subject) == ["Pushed"])
                #expect(ContinuousClock.now - appended < .seconds(8))
            }
        }

        @Test("without IDLE, the poll interval finds a new message")
        func pollFallback() async throws {
            try await IngestorHarness.run(configure: { $0.useIdle = false; $0.pollInterval = .seconds(1) }) { harness in
                let (inbox, sent) = try await harness.folders()
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent)
                try await waitUntil("Sent recorded") { try await harness.progress(of: mailbox, folder: sent) != nil }
                try await harness.imap.append(TestMessages.simple(subject: "Polled"), to: inbox)
                let entries = try await harness.entries(timeout: .seconds(10)) { !$0.isEmpty }
                #expect(entries.map(\.subject) == ["Polled"])
            }
        }

        @Test("a UIDVALIDITY change resyncs the folder without duplicates")
        func uidValidityChange() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                let kept = TestMessages.simple(subject: "Kept")
                try await harness.imap.append(kept, to: inbox)
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent)
                try await harness.entries { $0.count == 1 }
                let before = try #require(try await harness.progress(of: mailbox, folder: inbox)?.uidValidity)
                // Deleting and creating the folder again gives it a new UIDVALIDITY (as a server restore would).
                await harness.imap.delete(inbox)
                try await harness.imap.connection.perform { try $0.create(inbox) }
                try await harness.imap.append(kept, to: inbox)
                try await harness.imap.append(TestMessages.simple(subject: "New after resync"), to: inbox)
                try await waitUntil("done", timeout: .seconds(30)) {
                    let progress = try await harness.progress(of: mailbox, folder: inbox)
                    return progress?.uidValidity != before && progress?.lastUID == 2
                }
                let entries = try await harness.entries { $0.count >= 2 }
                try await Task.sleep(for: .seconds(1))
                #expect(try await harness.entries().compactMap(\.subject).sorted() == ["Kept", "New after resync"])
                #expect(entries.count == 2)
            }
        }

        @Test("a first sync limited by date imports only the newer messages")
        func since() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Today"), to: inbox)
                // INTERNALDATE is the APPEND time, today: a since date in the future leaves everything out.
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent, since: "2999-01-01")
                try await waitUntil("INBOX at UID 1") { try await harness.progress(of: mailbox, folder: inbox)?.lastUID == 1 }
                try await Task.sleep(for: .seconds(1))
                #expect(try await harness.entries().isEmpty)
            }
        }

        @Test("a wrong password and an unreachable server are reported and back off; the other mailboxes carry on")
        func wrongPassword() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Still imported"), to: inbox)
                let bad = try await harness.addMailbox(address: "bad@example.org", password: "wrong-secret", inbound: inbox, outbound: sent)
                let unreachable = try await harness.addMailbox(address: "down@example.org", port: 1, inbound: inbox, outbound: sent)
                try await harness.addMailbox(inbound: inbox, outbound: sent)
                _ = try await harness.entries { $0.count == 1 }
                let refused = try await harness.failure(of: bad)
                #expect(refused.contains("authentication"))
                #expect(!refused.contains("wrong-secret"))
                #expect(try await harness.status(of: bad).lastSuccess == nil)
                #expect(try await harness.failure(of: unreachable).contains("cannot connect"))
            }
        }

        @Test("over TLS a mailbox is imported when its server's CA is trusted, and refused with the reason when not")
        func tls() async throws {
            let trust = try IMAPTrust(addingPEMFile: try IMAPTLSTests.caFile)
            for trusted in [true, false] {
                try await IngestorHarness.run(configure: { if trusted { $0.trust = trust } }) { harness in
                    let (inbox, sent) = try await harness.folders()
                    try await harness.imap.append(TestMessages.simple(subject: "Over TLS"), to: inbox)
                    let mailbox = try await harness.addMailbox(host: "localhost", port: try IMAPTLSTests.tlsPort, tls: .implicit,
                                                               inbound: inbox, outbound: sent)
                    if trusted {
                        #expect(try await harness.entries { $0.count == 1 }.first?.subject == "Over TLS")
                    } else {
                        let failure = try await harness.failure(of: mailbox)
                        #expect(failure.contains("not trusted"), "\(failure)")
                        #expect(try await harness.entries().isEmpty)
                    }
                }
            }
        }

        @Test("a password replaced while the mailbox is failing is used at the next attempt, without a restart")
        func replacedSecret() async throws {
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "After the fix"), to: inbox)
                let mailbox = try await harness.addMailbox(password: "wrong-secret", inbound: inbox, outbound: sent)
                #expect(try await harness.failure(of: mailbox).contains("authentication"))
                try await harness.replaceSecret(of: mailbox, with: harness.imap.password)
                #expect(try await harness.entries { $0.count == 1 }.first?.subject == "After the fix")
            }
        }

        @Test("two replicas on the same mailboxes import each message once")
        func twoReplicas() async throws {
            try await IngestorHarness.run(replicas: 2) { harness in
                let (inbox, sent) = try await harness.folders()
                for index in 1...20 { try await harness.imap.append(TestMessages.simple(subject: "Message \(index)"), to: index % 2 == 0 ? inbox : sent) }
                let first = try await harness.addMailbox(inbound: inbox, outbound: sent)
                try await harness.addMailbox(address: "second@example.org", inbound: sent, outbound: inbox)
                try await harness.entries { $0.count >= 20 }
                try await waitUntil("Sent at UID 10") { try await harness.progress(of: first, folder: sent)?.lastUID == 10 }
                try await Task.sleep(for: .seconds(2))
                let holders = try await harness.database.withTransaction { connection in
                    var holders: [String] = []
                    for try await holder in try await connection.query(
                        "SELECT holder FROM leases WHERE name = \("mailbox:" + first.uuidString.lowercased())", logger: harness.database.logger
                    ).decode(String.self) { holders.append(holder) }
                    return holders
                }
                #expect(holders.count == 1)
                #expect(try await harness.entries().count == 20)
            }
        }
    }
}
