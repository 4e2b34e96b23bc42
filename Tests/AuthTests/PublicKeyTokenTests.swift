import Auth
import CommlogDomain
import Foundation
import JWTKit
import Testing
import TestSupport

/// Tokens issued elsewhere and signed with RS256 or ES256, verified with the issuer's public keys.
@Suite("Staff tokens: public keys")
struct PublicKeyTokenTests {
    static let claims = StaffClaims(staffID: "s-1", organisationID: "org-1", roles: [.staff], expires: Date().addingTimeInterval(600))

    /// A 2048-bit RSA key pair made by openssl: (private PEM, public PEM).
    static func rsaKeyPair() async throws -> (String, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rsa-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await ChildProcess.run("/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "\(folder)/private.pem") == 0)
        #expect(try await ChildProcess.run("/usr/bin/openssl", "pkey", "-in", "\(folder)/private.pem", "-pubout", "-out", "\(folder)/public.pem") == 0)
        return (try String(contentsOfFile: "\(folder)/private.pem", encoding: .utf8), try String(contentsOfFile: "\(folder)/public.pem", encoding: .utf8))
    }

    @Test("RS256 and ES256 tokens verify with their public keys, next to HS256; other keys' tokens do not")
    func publicKeys() async throws {
        let (rsaPrivate, rsaPublic) = try await Self.rsaKeyPair()
        let rsaIssuer = JWTKeyCollection()
        await rsaIssuer.add(rsa: try Insecure.RSA.PrivateKey(pem: rsaPrivate), digestAlgorithm: .sha256)
        let ecKey = ES256PrivateKey()
        let ecIssuer = JWTKeyCollection()
        await ecIssuer.add(ecdsa: ecKey)
        let strangerIssuer = JWTKeyCollection()
        await strangerIssuer.add(ecdsa: ES256PrivateKey())

        let secret = String(repeating: "k", count: 40)
        let keys = try await StaffTokenKeys.make(secret: secret, publicKeysPEM: rsaPublic + "\n" + ecKey.publicKey.pemRepresentation)
        #expect(try await keys.verify(try await rsaIssuer.sign(Self.claims)).staffID == "s-1")
        #expect(try await keys.verify(try await ecIssuer.sign(Self.claims)).staffID == "s-1")
        #expect(try await keys.verify(try await StaffTokenKeys.hmac(secret: secret).sign(Self.claims)).staffID == "s-1")
        await #expect(throws: (any Error).self) { try await keys.verify(try await strangerIssuer.sign(Self.claims)) }
        let expired = StaffClaims(staffID: "s-1", organisationID: "org-1", roles: [.staff], expires: Date().addingTimeInterval(-60))
        await #expect(throws: (any Error).self) { try await keys.verify(try await ecIssuer.sign(expired)) }

        // Public keys alone: HS256 tokens are then refused, whatever their secret.
        let publicOnly = try await StaffTokenKeys.make(secret: nil, publicKeysPEM: ecKey.publicKey.pemRepresentation)
        #expect(try await publicOnly.verify(try await ecIssuer.sign(Self.claims)).org == "org-1")
        await #expect(throws: (any Error).self) { try await publicOnly.verify(try await StaffTokenKeys.hmac(secret: secret).sign(Self.claims)) }
    }

    @Test("a file without a usable public key is a configuration error")
    func badKeys() async {
        await #expect(throws: TokenConfigurationError.self) { try await StaffTokenKeys.make(secret: nil, publicKeysPEM: "no keys here") }
        await #expect(throws: TokenConfigurationError.self) {
            try await StaffTokenKeys.make(secret: nil, publicKeysPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        }
        await #expect(throws: TokenConfigurationError.self) { try await StaffTokenKeys.make(secret: nil, publicKeysPEM: nil) }
    }
}
