import CommlogRuntime
import Crypto
import Foundation
import IMAP
import Logging
import PostgresNIO
import Storage
import TestSupport

/// First sync of a mailbox on the local Dovecot, against mbsync (isync) copying the same folder to a
/// Maildir in the same run: messages per second until every message is committed to the log, and the
/// ratio. The folder is filled by APPEND first (not measured) and deleted at the end.
struct MailImportBenchmark {
    let messages: Int
    let bin: String
    let configuration: ProgramConfiguration
    let logger: Logger

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["COMMLOG_TEST_IMAP_HOST"], let port = environment["COMMLOG_TEST_IMAP_PORT"].flatMap(Int.init),
              let user = environment["COMMLOG_TEST_IMAP_OTHER_USER"], let password = environment["COMMLOG_TEST_IMAP_OTHER_PASSWORD"] else {
            throw BenchmarkError("COMMLOG_TEST_IMAP_* are not set: start the stack with --with-dovecot and source .data/stack.env")
        }
        let imap = IMAPConnection(name: "bench-imap")
        try await imap.open(IMAPAccount(host: host, port: port, tls: .none, user: user, credential: .password(password)))
        let tag = UUID().uuidString.prefix(8).lowercased()
        let folder = "Bench\(tag)", empty = "Bench\(tag)sent"
        try await imap.perform { try $0.create(folder); try $0.create(empty) }

        say("mail import benchmark: first sync of \(messages) messages from Dovecot (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        let fillStart = ContinuousClock.now
        for index in 0..<messages {
            let raw = Self.message(index, tag: tag)
            try await imap.perform { try $0.append(raw, to: folder) }
        }
        say(String(format: "    (filled by APPEND in %.1f s)", (ContinuousClock.now - fillStart).seconds))

        let mbsync = try await self.mbsync(host: host, port: port, user: user, password: password, folder: folder)
        say(String(format: "  mbsync to a Maildir:                           %8.0f msg/s", mbsync))
        let ingest = try await ingestor(host: host, port: port, user: user, password: password, folder: folder, empty: empty)
        say(String(format: "  email-ingestor, first sync until committed:    %8.0f msg/s", ingest))
        say(String(format: "  ratio email-ingestor / mbsync: %.2f", ingest / mbsync))
        _ = try? await imap.perform { session in
            _ = try? session.select("INBOX")
            try session.delete(folder)
            try session.delete(empty)
        }
        await imap.close()
    }

    /// A message of a few kilobytes with a text body and a small attachment, as a practice receives them.
    static func message(_ index: Int, tag: String) -> [UInt8] {
        let body = String(repeating: "Bella had her vaccination today and is doing well. ", count: 20)
        let text = """
            From: Client \(index % 500) <client\(index % 500)@example.org>\r
            To: clinic@example.org\r
            Subject: Benchmark message \(index)\r
            Date: Wed, 25 Nov 2026 09:30:00 +0000\r
            Message-ID: <bench-\(tag)-\(index)@example.org>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            \(body)\r
            --b\r
            Content-Type: application/pdf\r
            Content-Disposition: attachment; filename="report-\(index).pdf"\r
            Content-Transfer-Encoding: base64\r
            \r
            JVBERi0xLjQKJcTl8uXrJVBERi0xLjQKJcTl8uXrJVBERi0xLjQKJcTl8uXr\r
            --b--\r

            """
        return Array(text.utf8)
    }

    /// mbsync pulling the folder into a fresh Maildir; messages per second.
    func mbsync(host: String, port: Int, user: String, password: String, folder: String) async throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("commlog-mbsync-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("mail"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = """
            IMAPAccount bench
            Host \(host)
            Port \(port)
            User \(user)
            Pass \(password)
            SSLType None
            AuthMechs LOGIN

            IMAPStore bench-remote
            Account bench

            MaildirStore bench-local
            Path \(directory.path)/mail/
            Inbox \(directory.path)/mail/INBOX
            SubFolders Verbatim

            Channel bench
            Far :bench-remote:
            Near :bench-local:
            Patterns \(folder)
            Create Near
            Sync Pull
            SyncState *

            """
        let configPath = directory.appendingPathComponent("mbsyncrc").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let start = ContinuousClock.now
        let status = try await ChildProcess(executable: "/usr/bin/mbsync", arguments: ["-q", "-c", configPath, "bench"], environment: ProcessInfo.processInfo.environment).wait()
        let elapsed = ContinuousClock.now - start
        guard status == 0 else { throw BenchmarkError("mbsync exited with \(status) (apt-get install isync)") }
        let copied = ["cur", "new"].reduce(0) { total, part in
            total + ((try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("mail/\(folder)/\(part)").path).count) ?? 0)
        }
        guard copied == messages else { throw BenchmarkError("mbsync copied \(copied) of \(messages) messages") }
        return Double(messages) / elapsed.seconds
    }

    /// The email-ingestor program importing the folder into a fresh organisation; messages per second
    /// from its start until the last entry is committed.
    func ingestor(host: String, port: Int, user: String, password: String, folder: String, empty: String) async throws -> Double {
        let database = Database(configuration: configuration.database, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let organisation = "bench-mail-\(UUID().uuidString.prefix(8).lowercased())"
            let key = SymmetricKey(size: .bits256)
            let mailbox = UUID()
            let sealed = try SecretSealer(current: key).seal(password, for: .mailbox(organisation: organisation, id: mailbox))
            let ciphertext = Data(sealed.ciphertext).base64EncodedString()
            try await database.withTenant(organisation) { connection in
                try await connection.query("""
                    INSERT INTO mailboxes (organisation_id, id, address, host, port, tls, username, secret_ciphertext, secret_key_id, inbound_folder, outbound_folder)
                    VALUES (commlog_current_organisation(), \(mailbox), \(user), \(host), \(port), 'none', \(user), decode(\(ciphertext), 'base64'), \(sealed.keyID), \(folder), \(empty))
                    """, logger: logger)
            }
            let start = ContinuousClock.now
            let program = try ChildProcess(
                executable: URL(fileURLWithPath: bin).appendingPathComponent("email-ingestor").path,
                environment: ProcessInfo.processInfo.environment.merging([
                    "COMMLOG_HTTP_PORT": "18983", "COMMLOG_LOG_LEVEL": "warning",
                    "COMMLOG_SECRET_KEY": key.withUnsafeBytes { Data($0).base64EncodedString() },
                    "COMMLOG_MAIL_FETCH_BATCH": ProcessInfo.processInfo.environment["COMMLOG_MAIL_FETCH_BATCH"] ?? "200",
                ]) { _, new in new }
            )
            var committed = 0
            while committed < messages {
                try await Task.sleep(for: .milliseconds(50))
                committed = try await database.withTenant(organisation) { connection in
                    var count = 0
                    for try await value in try await connection.query("SELECT count(*)::int FROM communications", logger: logger).decode(Int.self) { count = value }
                    return count
                }
                if ContinuousClock.now - start > .seconds(1800) { throw BenchmarkError("only \(committed) of \(messages) committed after 30 minutes") }
            }
            let elapsed = ContinuousClock.now - start
            program.signal(SIGTERM)
            await program.wait()
            try await database.withTenant(organisation) { connection in
                try await connection.query("UPDATE mailboxes SET enabled = false", logger: logger)
                try await connection.query("DELETE FROM communications", logger: logger)
            }
            return Double(messages) / elapsed.seconds
        }
    }
}
