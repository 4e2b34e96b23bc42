import CommlogRuntime
import Foundation
import Hummingbird
import IMAP
import LogStore
import NIOCore
import PostgresNIO
import Synchronization
import Testing
import TestSupport

/// `AUTHENTICATE XOAUTH2` against the local Dovecot, which checks a token by asking the OAuth2 provider's
/// user-info endpoint who it belongs to; the test is that provider, token endpoint included. (Its pollers
/// run, so it is one of `EmailIngestorProcesses`.)
/// Every refresh token the test provider handed out, the live one last.
final class RefreshTokens: Sendable {
    let tokens: Mutex<[String]>
    init(_ first: String) { tokens = Mutex([first]) }
    var live: String? { tokens.withLock { $0.last } }
}

extension EmailIngestorProcesses {
@Suite("IMAP XOAUTH2", .serialized, .timeLimit(.minutes(2)))
struct IMAPOAuth2Tests {
    static let goodToken = "ya29.test-\(UUID().uuidString)"
    static let clientID = "commlog-test-client"
    static let clientSecret = "client secret & more"

    /// The provider: `GET /userinfo` names the user of the good token (401 for any other); `POST /token` trades
    /// a live refresh token for the good token and rotates it (the old one stops working), and refuses any other
    /// with `invalid_grant`. Calls `body` with the token endpoint's URL.
    static func withProvider(user: String, refreshToken: String, _ body: (_ tokenURL: String, _ issued: RefreshTokens) async throws -> Void) async throws {
        let port = Int(try TestEnvironment.variable("COMMLOG_TEST_IMAP_OAUTH2_PORT")) ?? 0
        let live = RefreshTokens(refreshToken)
        let router = Router()
        router.get("/userinfo") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(goodToken)" else { return Response(status: .unauthorized) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"email\":\"\(user)\"}")))
        }
        router.post("/token") { request, context -> Response in
            let body = try await request.body.collect(upTo: 10_000)
            var fields: [String: String] = [:]
            for pair in String(buffer: body).split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            let next = "rt-\(UUID().uuidString)"
            let accepted = live.tokens.withLock { tokens -> Bool in
                guard fields["grant_type"] == "refresh_token", fields["client_id"] == clientID, fields["client_secret"] == clientSecret,
                      fields["refresh_token"] == tokens.last else { return false }
                tokens.append(next)
                return true
            }
            guard accepted else {
                return Response(status: .badRequest, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"invalid_grant\",\"error_description\":\"the refresh token was revoked\"}")))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(
                string: "{\"access_token\":\"\(goodToken)\",\"token_type\":\"Bearer\",\"expires_in\":3599,\"refresh_token\":\"\(next)\"}")))
        }
        // The previous test's provider may still hold the port for a moment after it stopped.
        for attempt in 1... {
            let (running, signal) = AsyncStream<Void>.makeStream()
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: { _ in signal.yield() })
            let started = try await withThrowingTaskGroup(of: Void.self) { group -> Bool in
                group.addTask {
                    defer { signal.finish() }
                    try await app.runService(gracefulShutdownSignals: [])
                }
                defer { group.cancelAll() }
                // Listening; the stream ends without a value when the server could not start.
                var listening = running.makeAsyncIterator()
                guard await listening.next() != nil else {
                    do {
                        try await group.next()
                    } catch where attempt < 150 && Self.isAddressInUse(error) {
                        return false
                    }
                    throw TestFailure("the test's OAuth2 provider did not start on port \(port)")
                }
                try await body("http://127.0.0.1:\(port)/token", live)
                return true
            }
            if started { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The port is still held (by the previous test's provider), however the server reports it.
    static func isAddressInUse(_ error: any Error) -> Bool {
        (error as? IOError)?.errnoCode == EADDRINUSE || "\(error)".contains("Address already in use") || String(reflecting: error).contains("EADDRINUSE")
    }

    func account(_ token: String) throws -> IMAPAccount {
        IMAPAccount(host: try TestIMAP.host, port: try TestIMAP.port, tls: .none, user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER"),
                    credential: .oauth2Token(token), timeout: 10)
    }

    @Test("a valid token logs in; a token the provider does not know is refused as authentication; a mailbox whose secret is a token is imported")
    func xoauth2() async throws {
        try await Self.withProvider(user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER"), refreshToken: "unused") { _, _ in
            let connection = IMAPConnection(name: "test-xoauth2")
            try await connection.open(account(Self.goodToken))
            let folders = try await connection.perform { try $0.folders() }
            #expect(folders.contains { $0.name == "INBOX" })
            await connection.close()

            let refused = IMAPConnection(name: "test-xoauth2-refused")
            let error = await #expect(throws: IMAPError.self) { try await refused.open(account("ya29.expired")) }
            #expect(error?.isAuthentication == true, "\(String(describing: error))")
            await refused.close()

            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "With a token"), to: inbox)
                try await harness.addMailbox(password: Self.goodToken, secretKind: "xoauth2", inbound: inbox, outbound: sent)
                #expect(try await harness.entries { $0.count == 1 }.first?.subject == "With a token")
            }
        }
    }

    @Test("a mailbox with a refresh grant gets its access token from the provider, and a rotated refresh token is sealed and stored")
    func refreshGrant() async throws {
        try await Self.withProvider(user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER"), refreshToken: "rt-first") { tokenURL, issued in
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                try await harness.imap.append(TestMessages.simple(subject: "Refreshed"), to: inbox)
                let grant = try OAuth2RefreshGrant(tokenURL: tokenURL, clientID: Self.clientID, clientSecret: Self.clientSecret,
                                                   refreshToken: "rt-first", scope: "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access")
                let mailbox = try await harness.addMailbox(password: try grant.encoded(), secretKind: "oauth2", inbound: inbox, outbound: sent)
                #expect(try await harness.entries { $0.count == 1 }.first?.subject == "Refreshed")

                // The provider rotated the refresh token on use; the mailbox now holds the new one, sealed.
                let stored = try OAuth2RefreshGrant(opened: try await harness.openedSecret(of: mailbox))
                #expect(stored.refreshToken == issued.live)
                #expect(stored.refreshToken != "rt-first")
                #expect(stored.clientSecret == Self.clientSecret)
                #expect(stored.scope == grant.scope)
            }
        }
    }

    @Test("a revoked refresh token is refused authentication with the provider's reason; an unreachable endpoint is a connection failure")
    func revokedGrant() async throws {
        try await Self.withProvider(user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER"), refreshToken: "rt-live") { tokenURL, _ in
            try await IngestorHarness.run { harness in
                let (inbox, sent) = try await harness.folders()
                let revoked = try OAuth2RefreshGrant(tokenURL: tokenURL, clientID: Self.clientID, clientSecret: Self.clientSecret,
                                                     refreshToken: "rt-revoked", scope: nil)
                let mailbox = try await harness.addMailbox(password: try revoked.encoded(), secretKind: "oauth2", inbound: inbox, outbound: sent)
                var unreachable = revoked
                unreachable.tokenURL = "http://127.0.0.1:1/token"
                let down = try await harness.addMailbox(address: "down@example.org", password: try unreachable.encoded(), secretKind: "oauth2",
                                                        inbound: inbox, outbound: sent)

                let refused = try await harness.failure(of: mailbox)
                #expect(refused.contains("authentication refused"), "\(refused)")
                #expect(refused.contains("invalid_grant"))
                #expect(!refused.contains("rt-revoked"), "the refresh token is not in the error")
                let failed = try await harness.failure(of: down)
                #expect(failed.contains("could not be reached"), "\(failed)")
                #expect(!failed.contains("authentication refused"))
            }
        }
    }
}
}
