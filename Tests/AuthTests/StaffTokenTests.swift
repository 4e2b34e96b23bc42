import Auth
import CommlogDomain
import Foundation
import Testing
import TestSupport

@Suite("Staff tokens")
struct StaffTokenTests {
    static let secret = String(repeating: "s3cret-", count: 6)

    @Test("a signed token verifies to the same staff member, organisation and roles")
    func roundTrip() async throws {
        let keys = try await StaffTokenKeys.hmac(secret: Self.secret)
        let claims = StaffClaims(staffID: "s-1", organisationID: "org-1", roles: [.staff, .manager], expires: Date().addingTimeInterval(3600))
        let verified = try await keys.verify(try await keys.sign(claims))
        #expect(verified.staffID == "s-1")
        #expect(verified.org == "org-1")
        #expect(verified.roles == [.staff, .manager])
    }

    @Test("expired, wrongly signed and malformed tokens are refused")
    func refused() async throws {
        let keys = try await StaffTokenKeys.hmac(secret: Self.secret)
        let other = try await StaffTokenKeys.hmac(secret: String(Self.secret.reversed()))
        let expired = try await keys.sign(StaffClaims(staffID: "s-1", organisationID: "org-1", roles: [.staff], expires: Date().addingTimeInterval(-60)))
        let foreign = try await other.sign(StaffClaims(staffID: "s-1", organisationID: "org-1", roles: [.staff], expires: Date().addingTimeInterval(60)))
        for token in [expired, foreign, "not.a.token", ""] {
            await #expect(throws: (any Error).self) { try await keys.verify(token) }
        }
    }

    @Test("a token verified once is refused when it expires, and a token changed in one byte is checked again")
    func verifiedTokens() async throws {
        let keys = try await StaffTokenKeys.hmac(secret: Self.secret)
        let token = try await keys.sign(StaffClaims(staffID: "s-1", organisationID: "org-1", roles: [.staff], expires: Date().addingTimeInterval(1.5)))
        #expect(try await keys.verify(token).staffID == "s-1")
        #expect(try await keys.verify(token).staffID == "s-1")
        // The same claims with a forged signature: a character in the middle of the signature changed (not
        // the last, whose low bits base64 does not use).
        var characters = Array(token)
        characters[characters.count - 10] = characters[characters.count - 10] == "A" ? "B" : "A"
        let forged = String(characters)
        await #expect(throws: (any Error).self) { try await keys.verify(forged) }
        try await Task.sleep(for: .seconds(2))
        await #expect(throws: (any Error).self) { try await keys.verify(token) }
    }

    @Test("a secret shorter than 32 bytes is a configuration error, not a crash")
    func shortSecret() async {
        await #expect(throws: TokenConfigurationError.self) { try await StaffTokenKeys.hmac(secret: "short") }
    }

    @Test("commlog token prints a token that verifies with the configured secret")
    func command() async throws {
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        var environment = ProcessInfo.processInfo.environment
        environment["COMMLOG_JWT_SECRET"] = Self.secret
        let status = try await ChildProcess(
            executable: "\(bin)/commlog", arguments: ["token", "--org", "org-9", "--staff", "s-9", "--role", "admin", "--ttl", "10m"],
            environment: environment, outputPath: output
        ).wait()
        #expect(status == 0)
        let token = try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let claims = try await StaffTokenKeys.hmac(secret: Self.secret).verify(token)
        #expect(claims.org == "org-9")
        #expect(claims.staffID == "s-9")
        #expect(claims.roles == [.admin])
        #expect(claims.expiresAt.timeIntervalSinceNow > 500 && claims.expiresAt.timeIntervalSinceNow <= 600)
    }
}
