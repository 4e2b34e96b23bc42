import Foundation
import Hummingbird
import IMAP
import Testing
import TestSupport

/// `AUTHENTICATE XOAUTH2` against the local Dovecot, which checks a token by asking the OAuth2 provider's
/// user-info endpoint who it belongs to; the test is that provider. (Its pollers run, so it is one of
/// `EmailIngestorProcesses`.)
extension EmailIngestorProcesses {
@Suite("IMAP XOAUTH2", .timeLimit(.minutes(2)))
struct IMAPOAuth2Tests {
    static let goodToken = "ya29.test-\(UUID().uuidString)"

    /// Serves `GET /userinfo` on the port Dovecot asks: the user's address for the good token, 401 for any other.
    static func withProvider(user: String, _ body: () async throws -> Void) async throws {
        let port = Int(try TestEnvironment.variable("COMMLOG_TEST_IMAP_OAUTH2_PORT")) ?? 0
        let router = Router()
        router.get("/userinfo") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(goodToken)" else { return Response(status: .unauthorized) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"email\":\"\(user)\"}")))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            try await body()
        }
    }

    func account(_ token: String) throws -> IMAPAccount {
        IMAPAccount(host: try TestIMAP.host, port: try TestIMAP.port, tls: .none, user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER"),
                    credential: .oauth2Token(token), timeout: 10)
    }

    @Test("a valid token logs in; a token the provider does not know is refused as authentication")
    func xoauth2() async throws {
        try await Self.withProvider(user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER")) {
            // The listener may take a moment: a refusal then is a connection error at the provider, retried.
            let connection = IMAPConnection(name: "test-xoauth2")
            let opened = await eventually(timeout: .seconds(10), every: .milliseconds(200)) {
                (try? await connection.open(account(Self.goodToken))) != nil
            }
            #expect(opened)
            let folders = try await connection.perform { try $0.folders() }
            #expect(folders.contains { $0.name == "INBOX" })
            await connection.close()

            let refused = IMAPConnection(name: "test-xoauth2-refused")
            let error = await #expect(throws: IMAPError.self) { try await refused.open(account("ya29.expired")) }
            #expect(error?.isAuthentication == true, "\(String(describing: error))")
            await refused.close()

            // A mailbox whose sealed secret is a token is imported with it.
            try await IngestorHarness.run { harness in
                let inbox = try await harness.imap.createFolder("in"), sent = try await harness.imap.createFolder("sent")
                try await harness.imap.append(TestMessages.simple(subject: "With a token"), to: inbox)
                try await harness.addMailbox(password: Self.goodToken, secretKind: "xoauth2", inbound: inbox, outbound: sent)
                #expect(try await harness.entries { $0.count == 1 }.first?.subject == "With a token")
            }
        }
    }
}
}
