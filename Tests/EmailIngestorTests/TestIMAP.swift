import Foundation
import IMAP
import Synchronization
import TestSupport

/// The test's own folders on the local Dovecot: created fresh with unique names, deleted afterwards,
/// so tests never touch INBOX or each other's messages.
final class TestIMAP: Sendable {
    let user: String
    let password: String
    let connection: IMAPConnection
    private let created = Mutex<[String]>([])

    static var host: String { get throws { try TestEnvironment.variable("COMMLOG_TEST_IMAP_HOST") } }
    static var port: Int { get throws { Int(try TestEnvironment.variable("COMMLOG_TEST_IMAP_PORT")) ?? 143 } }

    static func open(other: Bool = false) async throws -> TestIMAP {
        let user = try TestEnvironment.variable(other ? "COMMLOG_TEST_IMAP_OTHER_USER" : "COMMLOG_TEST_IMAP_USER")
        let password = try TestEnvironment.variable(other ? "COMMLOG_TEST_IMAP_OTHER_PASSWORD" : "COMMLOG_TEST_IMAP_PASSWORD")
        let connection = IMAPConnection(name: "test-imap")
        try await connection.open(IMAPAccount(host: try host, port: try port, tls: .none, user: user, credential: .password(password)))
        return TestIMAP(user: user, password: password, connection: connection)
    }

    init(user: String, password: String, connection: IMAPConnection) {
        self.user = user
        self.password = password
        self.connection = connection
    }

    /// Creates a folder of the test's own and returns its name.
    func createFolder(_ prefix: String) async throws -> String {
        let name = "T" + TestEnvironment.unique(prefix).replacingOccurrences(of: "-", with: "")
        do {
            try await connection.perform { try $0.create(name) }
        } catch where "\(error)".contains("already exists") {
            // The name is new to this run: a CREATE that reached the server before its answer was lost (and was
            // sent again after a reconnect) made it. Seen once under a parallel run.
        }
        created.withLock { $0.append(name) }
        return name
    }

    /// Deletes every folder this test created, from a fresh session: after a folder was deleted and
    /// created again in the same session, Dovecot refuses to delete it there ("Mailbox was deleted under us").
    func deleteCreated() async {
        let fresh = IMAPConnection(name: "test-imap-cleanup")
        guard (try? await fresh.open(IMAPAccount(host: try Self.host, port: try Self.port, tls: .none, user: user, credential: .password(password)))) != nil else { return }
        let cleanup = TestIMAP(user: user, password: password, connection: fresh)
        for folder in created.withLock({ $0 }) { await cleanup.delete(folder) }
        await fresh.close()
    }

    func append(_ raw: [UInt8], to folder: String) async throws {
        try await connection.perform { try $0.append(raw, to: folder) }
    }

    func status(_ folder: String) async throws -> IMAPFolderStatus {
        try await connection.perform { try $0.select(folder) }
    }

    /// Appends to an existing folder (INBOX, Sent) and returns a closure-free way to take it out again:
    /// the UIDs from the folder's UIDNEXT before the append on.
    func appendRemovable(_ raw: [UInt8], to folder: String) async throws -> (folder: String, fromUID: UInt32) {
        let next = try await status(folder).uidNext
        try await append(raw, to: folder)
        return (folder, next)
    }

    /// Removes (\Deleted + EXPUNGE) what `appendRemovable` put in.
    func remove(_ appended: (folder: String, fromUID: UInt32)) async {
        _ = try? await connection.perform { session in
            _ = try session.select(appended.folder)
            try session.remove(try session.uids(from: appended.fromUID))
        }
    }

    /// Deletes a folder. Dovecot answers NO ("Mailbox was deleted under us") while another session is
    /// still in the folder (the poller's, just logging out), so it tries a few times.
    func delete(_ folder: String) async {
        for attempt in 1...5 {
            let deleted = (try? await connection.perform { session -> Bool in
                _ = try? session.select("INBOX")
                try session.delete(folder)
                return true
            }) ?? false
            if deleted || attempt == 5 { return }
            try? await Task.sleep(for: .milliseconds(300))
        }
    }

    /// The flags of every message of the folder, by UID (to check that nothing was marked \Seen).
    func seenCount(_ folder: String) async throws -> Int {
        try await connection.perform { session in
            _ = try session.select(folder)
            return try session.seenUIDs().count
        }
    }
}
