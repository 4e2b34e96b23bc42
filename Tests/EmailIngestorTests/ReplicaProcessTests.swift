import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension EmailIngestorProcesses {
    /// The built email-ingestor program, two replicas as real processes.
    @Suite("email-ingestor replicas", .serialized)
    struct ReplicaProcessTests {
        @Test("a killed replica's mailbox is taken over by the other, which goes on from the recorded progress")
        func takeover() async throws {
            let started = Date()
            try await IngestorHarness.run(replicas: 0) { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Before the crash"), to: inbox)
                let prefix = TestEnvironment.unique("replica")
                func start(_ name: String) throws -> ProgramProcess {
                    try ProgramProcess("email-ingestor", environment: [
                        "COMMLOG_INSTANCE_ID": "\(prefix)-\(name)", "COMMLOG_HTTP_PORT": "\(freePort())",
                        "COMMLOG_SECRET_KEY": IngestorHarness.testKeyBase64, "COMMLOG_MAIL_LEASE_TTL_S": "3",
                        "COMMLOG_MAIL_POLL_INTERVAL_S": "1", "COMMLOG_LOG_LEVEL": "debug",
                    ])
                }
                let replicas = ["a": try start("a"), "b": try start("b")]
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent)
                try await harness.entries { $0.count == 1 }
                var holder: String?
                try await waitUntil("leased") { holder = try await harness.leaseHolder(of: mailbox); return holder != nil }
                let killed = try #require(holder.flatMap { $0.split(separator: "-").last.map(String.init) })
                await replicas[killed]?.kill(SIGKILL)
                try await harness.imap.append(TestMessages.simple(subject: "After the crash"), to: inbox)
                let entries = try await harness.entries(timeout: .seconds(30)) { $0.count == 2 }
                #expect(entries.compactMap(\.subject).sorted() == ["After the crash", "Before the crash"])
                let survivor = try await harness.leaseHolder(of: mailbox)
                #expect(survivor != nil && survivor != holder)
                for (_, replica) in replicas { await replica.kill(SIGTERM) }
                // The mailbox password never reaches a log line, even at debug level.
                let logs = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".data/logs")
                var checked = 0
                for name in try FileManager.default.contentsOfDirectory(atPath: logs.path) where name.hasPrefix("test-email-ingestor-") {
                    let file = logs.appendingPathComponent(name)
                    let modified = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
                    guard let modified, modified >= started else { continue }
                    let text = try String(contentsOf: file, encoding: .utf8)
                    #expect(!text.contains(harness.imap.password), "\(name) contains the mailbox password")
                    checked += 1
                }
                #expect(checked >= 2)
            }
        }

        @Test("a replica stopped with SIGTERM gives its mailbox up at once: no lease left, no CancellationError in its log")
        func stopReleases() async throws {
            try await IngestorHarness.run(replicas: 0) { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Held"), to: inbox)
                let replica = try ProgramProcess("email-ingestor", environment: [
                    "COMMLOG_INSTANCE_ID": TestEnvironment.unique("stopping"), "COMMLOG_HTTP_PORT": "\(freePort())",
                    "COMMLOG_SECRET_KEY": IngestorHarness.testKeyBase64, "COMMLOG_MAIL_LEASE_TTL_S": "300", "COMMLOG_MAIL_POLL_INTERVAL_S": "1",
                ])
                let mailbox = try await harness.addMailbox(inbound: inbox, outbound: sent)
                try await harness.entries { $0.count == 1 }
                #expect(try await harness.leaseHolder(of: mailbox) != nil)
                #expect(await replica.kill(SIGTERM) == 0)
                #expect(try await harness.leaseHolder(of: mailbox) == nil, "the lease should be released, not left to expire in 300 s")
                #expect(!replica.output.contains("could not release"), "\(replica.output.suffix(1_000))")
            }
        }
    }
}
