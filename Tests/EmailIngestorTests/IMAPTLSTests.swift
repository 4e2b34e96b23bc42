import Foundation
@testable import IMAP
import Testing
import TestSupport

/// IMAP over TLS against the local Dovecot, whose certificate (localhost, 127.0.0.1) a throwaway CA of the
/// stack signed: libetpan does not check certificates, so `IMAPConnection` does, before it logs in.
@Suite("IMAP over TLS")
struct IMAPTLSTests {
    static var caFile: String { get throws { try TestEnvironment.variable("COMMLOG_TEST_IMAP_CA_FILE") } }
    static var tlsPort: Int { get throws { Int(try TestEnvironment.variable("COMMLOG_TEST_IMAPS_PORT")) ?? 993 } }

    func account(_ host: String, _ port: Int, _ tls: IMAPTLSMode, trust: IMAPTrust) throws -> IMAPAccount {
        IMAPAccount(host: host, port: port, tls: tls, user: try TestEnvironment.variable("COMMLOG_TEST_IMAP_USER"),
                    credential: .password(try TestEnvironment.variable("COMMLOG_TEST_IMAP_PASSWORD")), timeout: 10, trust: trust)
    }

    @Test("with the server's CA trusted, TLS and STARTTLS log in, by name and by address")
    func trusted() async throws {
        let trust = try IMAPTrust(addingPEMFile: try Self.caFile)
        for (host, port, tls) in [("localhost", try Self.tlsPort, IMAPTLSMode.implicit), ("127.0.0.1", try Self.tlsPort, .implicit),
                                  ("127.0.0.1", try TestIMAP.port, .starttls)] {
            let connection = IMAPConnection(name: "test-tls")
            try await connection.open(account(host, port, tls, trust: trust))
            let folders = try await connection.perform { try $0.folders() }
            #expect(folders.contains { $0.hasFlag("\\Sent") }, "\(tls) to \(host)")
            await connection.close()
        }
    }

    @Test("a certificate no trusted authority signed is refused, and no session is left", arguments: [IMAPTLSMode.implicit, .starttls])
    func untrusted(tls: IMAPTLSMode) async throws {
        let connection = IMAPConnection(name: "test-tls-untrusted")
        let port = tls == .implicit ? try Self.tlsPort : try TestIMAP.port
        let error = await #expect(throws: IMAPError.self) { try await connection.open(account("localhost", port, tls, trust: .system)) }
        #expect(error?.code == .connect)
        #expect(error?.description.contains("not trusted") == true, "\(String(describing: error))")
        #expect(await !connection.isOpen())
        await connection.close()
    }

    @Test("a certificate for other names is refused, even from a trusted authority")
    func otherName() async throws {
        let trust = try IMAPTrust(addingPEMFile: try Self.caFile)
        let session = IMAPSession(timeout: 10)
        let chain = try session.connect(host: "127.0.0.1", port: try Self.tlsPort, tls: .implicit)
        session.logout()
        #expect(!chain.isEmpty)
        try await trust.verify(chain, host: "localhost")
        try await trust.verify(chain, host: "127.0.0.1")
        let error = await #expect(throws: IMAPError.self) { try await trust.verify(chain, host: "mail.example.org") }
        #expect(error?.description.contains("not trusted") == true)
        await #expect(throws: IMAPError.self) { try await trust.verify(chain, host: "127.0.0.2") }
        await #expect(throws: IMAPError.self) { try await trust.verify([], host: "localhost") }
    }

    @Test("a CA file that is missing or holds no certificate is a configuration error")
    func badCAFile() throws {
        #expect(throws: IMAPTrustError.self) { try IMAPTrust(addingPEMFile: "/nonexistent/ca.pem") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-ca-\(UUID().uuidString).pem")
        try Data("not a certificate\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: IMAPTrustError.self) { try IMAPTrust(addingPEMFile: file.path) }
    }
}

@Suite("IMAP without TLS")
struct IMAPClearTextTests {
    @Test("tls none is refused for any server not on this machine, before anything is sent")
    func onlyLoopback() async throws {
        #expect(IMAPAccount.isLoopback("127.0.0.1") && IMAPAccount.isLoopback("127.3.4.5") && IMAPAccount.isLoopback("localhost") && IMAPAccount.isLoopback("::1"))
        #expect(!IMAPAccount.isLoopback("10.0.0.1") && !IMAPAccount.isLoopback("imap.example.org") && !IMAPAccount.isLoopback("127.0.0.1.example.org"))
        let connection = IMAPConnection(name: "clear-text")
        await #expect(throws: IMAPError.self) {
            try await connection.open(IMAPAccount(host: "imap.example.org", port: 143, tls: .none, user: "u", credential: .password("pw")))
        }
        await connection.close()
    }
}
