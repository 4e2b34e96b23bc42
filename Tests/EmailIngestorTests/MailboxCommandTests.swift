import CommlogRuntime
import Crypto
import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// `commlog mailbox add|list|disable`, the real command against the real database.
@Suite("commlog mailbox")
struct MailboxCommandTests {
    /// Runs `commlog` with `arguments` (and `input` on standard input); returns its exit status and output.
    static func commlog(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        try await commlogCommand(arguments, input: input, environment: ["COMMLOG_SECRET_KEY": IngestorHarness.testKeyBase64])
    }

    @Test("add seals the password read from standard input, list shows status without secrets, disable stops a mailbox, secret replaces it")
    func addListDisable() async throws {
        let organisation = TestEnvironment.unique("org-mailcli")
        let password = "correct-horse-\(UUID().uuidString)"
        let address = "\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let added = try await Self.commlog([
            "mailbox", "add", "--org", organisation, "--address", address, "--host", "127.0.0.1", "--port", "51143",
            "--tls", "none", "--user", "shared@example.org", "--since", "2026-01-01",
        ], input: password)
        #expect(added.status == 0, "\(added.output)")
        // The id is the last line (a log line may come before it on the merged output).
        let id = try #require(added.output.split(separator: "\n").last.flatMap { UUID(uuidString: String($0).trimmingCharacters(in: .whitespaces)) })

        @Sendable func secret() async throws -> (ciphertext: ByteBuffer, keyID: String, kind: String) {
            try await TestEnvironment.withDatabase { database in
                try await database.withTenant(organisation) { connection in
                    let rows = try await connection.query(
                        "SELECT secret_ciphertext, secret_key_id, secret_kind FROM mailboxes WHERE organisation_id = \(organisation) AND id = \(id)",
                        logger: database.logger)
                    for try await row in rows.decode((ByteBuffer, String, String).self) { return row }
                    throw ChildProcessError(description: "the mailbox row is missing")
                }
            }
        }
        let sealed = try await secret()
        #expect(!String(decoding: sealed.ciphertext.readableBytesView, as: UTF8.self).contains(password), "the password is stored sealed")
        #expect(sealed.ciphertext.readableBytes > password.utf8.count)
        #expect(!sealed.keyID.isEmpty)
        #expect(sealed.kind == "password")

        let listed = try await Self.commlog(["mailbox", "list", "--org", organisation])
        #expect(listed.status == 0)
        #expect(listed.output.contains(address))
        #expect(listed.output.contains("enabled"))
        #expect(listed.output.contains("last success: never"))
        #expect(!listed.output.contains(password))

        let disabled = try await Self.commlog(["mailbox", "disable", "--org", organisation, address])
        #expect(disabled.status == 0, "\(disabled.output)")
        #expect(try await Self.commlog(["mailbox", "list", "--org", organisation]).output.contains("disabled"))

        // A new secret replaces the old one, sealed, and enables the mailbox again.
        let replaced = try await Self.commlog(["mailbox", "secret", "--org", organisation, address], input: "new-\(password)")
        #expect(replaced.status == 0, "\(replaced.output)")
        let resealed = try await secret()
        #expect(resealed.ciphertext != sealed.ciphertext)
        #expect(!String(decoding: resealed.ciphertext.readableBytesView, as: UTF8.self).contains("new-\(password)"))
        #expect(try await Self.commlog(["mailbox", "list", "--org", organisation]).output.contains("enabled"))

        // Disabled and enabled again; listed as JSON for scripts; removed (the log keeps what was imported).
        #expect(try await Self.commlog(["mailbox", "disable", "--org", organisation, address]).status == 0)
        #expect(try await Self.commlog(["mailbox", "enable", "--org", organisation, address]).status == 0)
        let json = try await Self.commlog(["mailbox", "list", "--org", organisation, "--json"])
        let objects = try JSONSerialization.jsonObject(with: Data((json.output.split(separator: "\n").last { $0.hasPrefix("[") } ?? "[]").utf8)) as? [[String: Any]]
        #expect(objects?.first?["address"] as? String == address, "\(json.output)")
        #expect(objects?.first?["enabled"] as? Bool == true)
        #expect(objects?.first?["id"] as? String == id.uuidString.lowercased())

        // Mistakes are refused with a message, not stored.
        let noPassword = try await Self.commlog([
            "mailbox", "add", "--org", organisation, "--address", "other-\(address)", "--host", "127.0.0.1", "--port", "51143",
            "--tls", "none", "--user", "u",
        ], input: "")
        #expect(noPassword.status != 0)
        #expect(noPassword.output.contains("standard input"))
        let badTLS = try await Self.commlog([
            "mailbox", "add", "--org", organisation, "--address", "x@example.org", "--host", "h", "--port", "143", "--tls", "sometimes", "--user", "u",
        ], input: "pw")
        #expect(badTLS.status != 0)
        let clearToRemote = try await Self.commlog([
            "mailbox", "add", "--org", organisation, "--address", "y@example.org", "--host", "imap.example.org", "--port", "143", "--tls", "none", "--user", "u",
        ], input: "pw")
        #expect(clearToRemote.status != 0)
        #expect(clearToRemote.output.contains("only for a server on this machine"), "\(clearToRemote.output)")
        #expect(try await Self.commlog(["mailbox", "disable", "--org", organisation, "nobody@example.org"]).status != 0)
        let noSuchMailbox = try await Self.commlog(["mailbox", "secret", "--org", organisation, "nobody@example.org"], input: "pw")
        #expect(noSuchMailbox.status != 0)
        #expect(noSuchMailbox.output.contains("no mailbox nobody@example.org"))
        // Left enabled, its wrong password would be tried by every later suite's poller.
        #expect(try await Self.commlog(["mailbox", "disable", "--org", organisation, address]).status == 0)
        let removed = try await Self.commlog(["mailbox", "remove", "--org", organisation, address])
        #expect(removed.status == 0, "\(removed.output)")
        #expect(!(try await Self.commlog(["mailbox", "list", "--org", organisation]).output.contains(address)))
        #expect(try await Self.commlog(["mailbox", "remove", "--org", organisation, address]).status != 0)
    }

    @Test("an OAuth2 refresh grant is read from standard input (refresh token, then client secret) and sealed; mistakes are refused")
    func refreshGrant() async throws {
        let organisation = TestEnvironment.unique("org-mailcli")
        let address = "\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let tokenURL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
        let scope = "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access"
        let server = ["--host", "outlook.office365.com", "--port", "993", "--tls", "implicit", "--user", address]
        let added = try await Self.commlog(["mailbox", "add", "--org", organisation, "--address", address] + server + [
            "--oauth2-token-url", tokenURL, "--oauth2-client-id", "app-1", "--oauth2-scope", scope,
        ], input: "rt-first\nclient-secret-1")
        #expect(added.status == 0, "\(added.output)")

        @Sendable func stored() async throws -> (kind: String, grant: OAuth2RefreshGrant) {
            try await TestEnvironment.withDatabase { database in
                try await database.withTenant(organisation) { connection in
                    let rows = try await connection.query(
                        "SELECT id, secret_kind, secret_ciphertext, secret_key_id FROM mailboxes WHERE organisation_id = \(organisation)", logger: database.logger)
                    for try await (id, kind, ciphertext, keyID) in rows.decode((UUID, String, ByteBuffer, String).self) {
                        let opened = try SecretSealer(current: IngestorHarness.testKey).open(
                            Array(ciphertext.readableBytesView), keyID: keyID, for: .mailbox(organisation: organisation, id: id))
                        return (kind, try OAuth2RefreshGrant(opened: opened.secret))
                    }
                    throw ChildProcessError(description: "the mailbox row is missing")
                }
            }
        }
        let first = try await stored()
        #expect(first.kind == "oauth2")
        #expect(first.grant == (try OAuth2RefreshGrant(tokenURL: tokenURL, clientID: "app-1", clientSecret: "client-secret-1", refreshToken: "rt-first", scope: scope)))

        // `secret` replaces it; a public client has no secret.
        let replaced = try await Self.commlog([
            "mailbox", "secret", "--org", organisation, address, "--oauth2-token-url", tokenURL, "--oauth2-client-id", "app-2",
        ], input: "rt-second")
        #expect(replaced.status == 0, "\(replaced.output)")
        #expect(try await stored().grant == (try OAuth2RefreshGrant(tokenURL: tokenURL, clientID: "app-2", clientSecret: nil, refreshToken: "rt-second", scope: nil)))

        let refusals: [([String], String)] = [
            (["--oauth2-token-url", "http://login.example.org/token", "--oauth2-client-id", "a"], "must be https"),
            (["--oauth2-token-url", tokenURL], "needs --oauth2-client-id"),
            (["--oauth2-token-url", tokenURL, "--oauth2-client-id", "a", "--oauth2"], "exclude each other"),
            (["--oauth2-client-id", "a"], "go with --oauth2-token-url"),
        ]
        for (arguments, message) in refusals {
            let refused = try await Self.commlog(["mailbox", "add", "--org", organisation, "--address", "x-\(address)"] + server + arguments, input: "rt")
            #expect(refused.status != 0, "\(arguments)")
            #expect(refused.output.contains(message), "\(arguments): \(refused.output)")
        }
        let noToken = try await Self.commlog(["mailbox", "add", "--org", organisation, "--address", "y-\(address)"] + server + [
            "--oauth2-token-url", tokenURL, "--oauth2-client-id", "a",
        ], input: "")
        #expect(noToken.status != 0)
        #expect(noToken.output.contains("refresh token on standard input"))
        // Left enabled, every later suite's poller would try the real provider.
        #expect(try await Self.commlog(["mailbox", "disable", "--org", organisation, address]).status == 0)
    }

    @Test("reseal binds secrets sealed before binding to their mailbox")
    func resealBinds() async throws {
        let organisation = TestEnvironment.unique("org-reseal")
        let id = UUID()
        let legacy = Array(try AES.GCM.seal(Data("old-pw".utf8), using: IngestorHarness.testKey).combined!)
        let sealer = SecretSealer(current: IngestorHarness.testKey)
        @Sendable func stored() async throws -> [UInt8] {
            try await TestEnvironment.withDatabase { database in
                try await database.withTenant(organisation) { connection in
                    for try await ciphertext in try await connection.query("SELECT secret_ciphertext FROM mailboxes WHERE id = \(id)", logger: database.logger).decode(ByteBuffer.self) {
                        return Array(ciphertext.readableBytesView)
                    }
                    throw ChildProcessError(description: "the mailbox row is missing")
                }
            }
        }
        try await TestEnvironment.withDatabase { database in
            try await database.withTenant(organisation) { connection in
                try await connection.query("""
                    INSERT INTO mailboxes (organisation_id, id, address, host, port, tls, username, secret_kind, secret_ciphertext, secret_key_id, enabled)
                    VALUES (commlog_current_organisation(), \(id), 'reseal@example.org', '127.0.0.1', 1, 'none', 'u', 'password',
                            \(ByteBuffer(bytes: legacy)), \(sealer.currentKeyID), false)
                    """, logger: database.logger)
            }
        }
        // Other suites' mailboxes may hold secrets of other keys: only this one's outcome matters here.
        let output = try await Self.commlog(["mailbox", "reseal"]).output
        let after = try await stored()
        #expect(after != legacy, "\(output)")
        #expect(try sealer.open(after, keyID: sealer.currentKeyID, for: .mailbox(organisation: organisation, id: id)).secret == "old-pw")
        #expect(throws: SecretSealerError.self) { try sealer.open(after, keyID: sealer.currentKeyID, for: .mailbox(organisation: organisation, id: UUID())) }
    }
}
