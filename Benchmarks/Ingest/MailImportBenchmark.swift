import CommlogRuntime
import Crypto
import Foundation
import IMAP
import Logging
import PostgresNIO
import Storage
import TestSupport

/// First sync of a mailbox on the local Dovecot, against mbsync (isync) copying the same folder to a
/// Maildir in the same run: messages and MB per second until every message is committed to the log, the
/// ratio, and email-ingestor's resident memory. The folder is filled with `PracticeMail` by APPEND first (not
/// measured) and deleted at the end.
struct MailImportBenchmark {
    /// How long after the last commit idle memory is read: one trim interval and a little more.
    static let idleAfter = MemoryTrimmer.defaultInterval + .seconds(2)

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
        let mail = PracticeMail(tag: String(tag))
        let fillStart = ContinuousClock.now
        var bytes = 0
        for first in stride(from: 0, to: messages, by: 100) {
            let batch = (first..<min(first + 100, messages)).map(mail.message)
            bytes += batch.reduce(0) { $0 + $1.count }
            try await imap.perform { session in
                for raw in batch { try session.append(raw, to: folder) }
            }
        }
        let megabytes = Double(bytes) / 1_048_576
        say(String(format: "  the folder: %d messages, %.1f MB, %.1f KB on average (text, HTML alternatives, PDF and image attachments)",
                   messages, megabytes, Double(bytes) / 1024 / Double(messages)))
        say(String(format: "    (filled by APPEND in %.1f s)", (ContinuousClock.now - fillStart).seconds))

        let mbsyncSeconds = try await mbsync(host: host, port: port, user: user, password: password, folder: folder)
        say(String(format: "  mbsync to a Maildir:                           %8.0f msg/s %6.1f MB/s", Double(messages) / mbsyncSeconds, megabytes / mbsyncSeconds))
        let ingest = try await ingestor(host: host, port: port, user: user, password: password, folder: folder, empty: empty)
        say(String(format: "  email-ingestor, first sync until committed:    %8.0f msg/s %6.1f MB/s", Double(messages) / ingest.seconds, megabytes / ingest.seconds))
        say(String(format: "  ratio email-ingestor / mbsync: %.2f", mbsyncSeconds / ingest.seconds))
        say(ingest.memory + " (idle after the sync: \(Self.idleAfter.components.seconds) s after the last commit, once its memory trimmer has run)")
        _ = try? await imap.perform { session in
            _ = try? session.select("INBOX")
            try session.delete(folder)
            try session.delete(empty)
        }
        await imap.close()
    }

    /// mbsync pulling the folder into a fresh Maildir; the seconds it took.
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
        return elapsed.seconds
    }

    /// The email-ingestor program importing the folder into a fresh organisation: the seconds from its start
    /// until the last entry is committed, and its resident memory's report line.
    func ingestor(host: String, port: Int, user: String, password: String, folder: String, empty: String) async throws -> (seconds: Double, memory: String) {
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
            let memory = ResidentMemory(pid: program.pid)
            var committed = 0
            while committed < messages {
                try await Task.sleep(for: .milliseconds(50))
                committed = try await database.withTenant(organisation) { connection in
                    var count = 0
                    for try await value in try await connection.query("SELECT count(*)::int FROM communications", logger: logger).decode(Int.self) { count = value }
                    return count
                }
                if ContinuousClock.now - start > .seconds(1800) { throw BenchmarkError("only \(committed) of \(messages) committed after 30 minutes") }
                if program.hasExited {
                    throw BenchmarkError("email-ingestor ended (status \(await program.wait())) with \(committed) of \(messages) messages logged; its log is above")
                }
            }
            let elapsed = ContinuousClock.now - start
            // It syncs from its start: idle is what it keeps once the sync is committed and nothing has come for a
            // while, and its MemoryTrimmer has handed back what the sync freed.
            try await Task.sleep(for: Self.idleAfter)
            let idle = memory.now, peak = memory.peakMegabytes
            program.signal(SIGTERM)
            await program.wait()
            try await database.withTenant(organisation) { connection in
                try await connection.query("UPDATE mailboxes SET enabled = false", logger: logger)
                try await connection.query("DELETE FROM communications", logger: logger)
            }
            return (elapsed.seconds, ResidentMemory.report(program: "email-ingestor", idle: idle, peak: peak))
        }
    }
}
