import CommlogDomain
import CommlogRuntime
import Crypto
import Integrations
@testable import EmailIngestor
import Foundation
import LogStore
import IMAP
import Logging
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// The ingestor's consumer and one or more pollers (replicas) running in the test against the real
/// Dovecot, broker and database, for an organisation of the test's own. Mailboxes the test adds are
/// disabled at the end so that later runs do not poll them.
struct IngestorHarness: Sendable {
    let organisationID: String
    let database: Database
    let sealer: SecretSealer
    let imap: TestIMAP

    static let testKey = SymmetricKey(size: .bits256)
    /// `COMMLOG_SECRET_KEY` for ingestor processes that open the harness's mailboxes.
    static var testKeyBase64: String { testKey.withUnsafeBytes { Data($0).base64EncodedString() } }

    static func run(
        replicas: Int = 1,
        configure: @Sendable (inout IngestorConfiguration) -> Void = { _ in },
        batching: @Sendable (inout BatchConfiguration) -> Void = { _ in },
        fetcherUser: String? = nil,
        _ body: @Sendable (IngestorHarness) async throws -> Void
    ) async throws {
        try await TestEnvironment.withDatabase { database in
            try await TestEnvironment.withConnection(name: "test-email-ingestor") { connection in
                let sealer = SecretSealer(current: testKey)
                var configuration = IngestorConfiguration()
                configuration.pollInterval = .seconds(2)
                configuration.leaseTTL = .seconds(6)
                configuration.maximumBackoff = .seconds(2)
                configure(&configuration)
                var batch = BatchConfiguration()
                batch.maximumWait = .milliseconds(5)
                batch.concurrency = 2  // email-ingestor's default
                batching(&batch)
                var handler = MailMessageHandler(database: database, announcer: nil, logger: TestEnvironment.logger)
                // As the program runs: only mail its own broker user published (the test's connections use the same user).
                handler.fetcherUser = try fetcherUser ?? AMQPConfiguration(url: try TestEnvironment.variable("COMMLOG_AMQP_URL")).user
                let consumer = BatchingConsumer(
                    queue: Topology.Queue(name: CommlogQueues.mail.name, bindings: CommlogQueues.mail.bindings),
                    consumerConnection: connection, publisher: connection, handler: handler,
                    configuration: batch, isTransient: PostgresFailure.isTransient, logger: TestEnvironment.logger
                )
                let store = MailboxStore(database: database, logger: TestEnvironment.logger)
                let run = TestEnvironment.unique("replica")
                let pollers = (0..<replicas).map { replica in
                    var replicaConfiguration = configuration
                    replicaConfiguration.instanceID = "\(run)-\(replica + 1)"
                    return MailboxPoller(store: store, publisher: connection, sealer: sealer, configuration: replicaConfiguration, logger: TestEnvironment.logger)
                }
                let harness = IngestorHarness(
                    organisationID: TestEnvironment.unique("org"), database: database, sealer: sealer, imap: try await TestIMAP.open()
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await consumer.run() }
                    for poller in pollers { group.addTask { try await poller.run() } }
                    defer { group.cancelAll() }
                    do {
                        try await body(harness)
                        try await harness.disableMailboxes()
                    } catch {
                        try? await harness.disableMailboxes()
                        throw error
                    }
                }
                await harness.imap.deleteCreated()
                await harness.imap.connection.close()
            }
        }
    }

    /// Adds a mailbox of the harness's organisation importing `inbound` and `outbound` (nil: INBOX and \Sent).
    @discardableResult
    func addMailbox(
        address: String = "shared@example.org", user: String? = nil, password: String? = nil, host: String? = nil, port: Int? = nil,
        tls: IMAPTLSMode = .none, secretKind: String = "password", inbound: String?, outbound: String?, since: String? = nil,
        unboundSecret: Bool = false, aliases: [String] = []
    ) async throws -> UUID {
        let newID = UUID()
        var sealed = try sealer.seal(password ?? imap.password, for: .mailbox(organisation: organisationID, id: newID))
        if unboundSecret {
            // As sealed before secrets were bound to their mailbox: no associated data.
            sealed.ciphertext = Array(try AES.GCM.seal(Data((password ?? imap.password).utf8), using: Self.testKey).combined!)
        }
        let ciphertext = Data(sealed.ciphertext).base64EncodedString()
        let host = try host ?? TestIMAP.host, port = try port ?? TestIMAP.port, username = user ?? imap.user
        return try await database.withTenant(organisationID) { connection in
            for try await id in try await connection.query("""
                INSERT INTO mailboxes (organisation_id, id, address, host, port, tls, username, secret_kind, secret_ciphertext, secret_key_id, since,
                                       inbound_folder, outbound_folder, aliases)
                VALUES (commlog_current_organisation(), \(newID), \(address), \(host), \(port), \(tls.rawValue), \(username), \(secretKind),
                        decode(\(ciphertext), 'base64'), \(sealed.keyID), \(since)::date, \(inbound), \(outbound), \(aliases))
                RETURNING id
                """, logger: database.logger).decode(UUID.self) {
                return id
            }
            throw TestFailure("mailbox not added")
        }
    }

    func disableMailboxes() async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query("UPDATE mailboxes SET enabled = false", logger: database.logger)
        }
    }

    /// Puts an address into the directory as a client's (or staff's, or a connection's).
    func addContact(_ address: String, kind: String, id: String) async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query("""
                INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id)
                VALUES (commlog_current_organisation(), 'email', \(address.lowercased()), \(kind), \(id))
                """, logger: database.logger)
        }
    }

    /// Waits until `condition` holds for the organisation's entries and returns them.
    @discardableResult
    func entries(timeout: Duration = .seconds(30), where condition: ([StoredEntry]) -> Bool) async throws -> [StoredEntry] {
        try await eventually(timeout: timeout, every: .milliseconds(200), reading: entries, until: condition)
    }

    /// The organisation's mailbox entries as the log reads them back, oldest first.
    func entries() async throws -> [StoredEntry] {
        try await database.withTenant(organisationID) { connection in
            try await EntryReader(connection: connection, logger: database.logger).entries(source: .mailbox)
        }
    }

    /// The raw message kept for an entry.
    func raw(of id: UUID) async throws -> [UInt8]? {
        try await database.withTenant(organisationID) { connection in
            for try await raw in try await connection.query(
                "SELECT encode(raw, 'base64') FROM contents WHERE communication_id = \(id)", logger: database.logger
            ).decode(String?.self) {
                return raw.flatMap { Data(base64Encoded: $0.replacingOccurrences(of: "\n", with: "")) }.map(Array.init)
            }
            return nil
        }
    }

    /// Two new folders of the test's own, for a mailbox's inbound and outbound mail.
    func folders() async throws -> (inbox: String, sent: String) {
        (try await imap.createFolder("in"), try await imap.createFolder("sent"))
    }

    /// The mailbox's last error, once there is one.
    func failure(of mailbox: UUID) async throws -> String {
        let status = try await eventually(reading: { try await self.status(of: mailbox) }, until: { $0.lastError != nil })
        return try #require(status.lastError, "mailbox \(mailbox) recorded no error")
    }

    /// The mailbox's last error and last success, as `commlog mailbox list` shows them.
    func status(of mailbox: UUID) async throws -> (lastError: String?, lastSuccess: Date?) {
        try await database.withTenant(organisationID) { connection in
            for try await row in try await connection.query(
                "SELECT last_error, last_success_at FROM mailboxes WHERE id = \(mailbox)", logger: database.logger
            ).decode((String?, Date?).self) {
                return row
            }
            return (nil, nil)
        }
    }

    /// Seals and stores a new password, as `commlog mailbox secret` does.
    func replaceSecret(of mailbox: UUID, with password: String) async throws {
        let sealed = try sealer.seal(password, for: .mailbox(organisation: organisationID, id: mailbox))
        let ciphertext = Data(sealed.ciphertext).base64EncodedString()
        try await database.withTenant(organisationID) { connection in
            try await connection.query("""
                UPDATE mailboxes SET secret_ciphertext = decode(\(ciphertext), 'base64'), secret_key_id = \(sealed.keyID), secret_kind = 'password',
                                     enabled = true, last_error = NULL
                WHERE id = \(mailbox)
                """, logger: database.logger)
        }
    }

    /// The mailbox's secret as stored now, opened.
    func openedSecret(of mailbox: UUID) async throws -> String {
        try await database.withTenant(organisationID) { connection in
            for try await (ciphertext, keyID) in try await connection.query(
                "SELECT secret_ciphertext, secret_key_id FROM mailboxes WHERE id = \(mailbox)", logger: database.logger
            ).decode((ByteBuffer, String).self) {
                return try sealer.open(Array(ciphertext.readableBytesView), keyID: keyID, for: .mailbox(organisation: organisationID, id: mailbox)).secret
            }
            throw TestFailure("no mailbox \(mailbox)")
        }
    }

    /// Who holds a mailbox's lease now.
    func leaseHolder(of mailbox: UUID) async throws -> String? {
        try await database.withTransaction { connection in
            for try await holder in try await connection.query(
                "SELECT holder FROM leases WHERE name = \("mailbox:" + mailbox.uuidString.lowercased()) AND expires_at > now()", logger: database.logger
            ).decode(String.self) {
                return holder
            }
            return nil
        }
    }

    /// The folder progress the poller recorded.
    func progress(of mailbox: UUID, folder: String) async throws -> (uidValidity: Int64?, lastUID: Int64)? {
        try await database.withTenant(organisationID) { connection in
            for try await row in try await connection.query(
                "SELECT uidvalidity, last_uid FROM mailbox_folders WHERE mailbox_id = \(mailbox) AND name = \(folder)", logger: database.logger
            ).decode((Int64?, Int64).self) {
                return row
            }
            return nil
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The suites whose pollers run, one at a time: a poller takes every enabled mailbox in the database, so one
/// suite's poller would otherwise take (and hold the lease of) the mailbox another suite is watching.
@Suite(.serialized) enum EmailIngestorProcesses {}
