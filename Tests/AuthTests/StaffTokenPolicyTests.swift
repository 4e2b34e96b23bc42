import Auth
import CommlogDomain
import Foundation
import Testing

/// What a token must say besides its signature: lifetime, issuer, audience, and claims safe to use.
@Suite("Staff token policy")
struct StaffTokenPolicyTests {
    static let secret = String(repeating: "p0licy-", count: 6)

    static func keys(_ policy: StaffTokenPolicy = StaffTokenPolicy()) async throws -> StaffTokenKeys {
        try await StaffTokenKeys.make(secret: secret, publicKeysPEM: nil, policy: policy)
    }

    static func claims(org: String = "org-1", staff: String = "s-1", expires: Date = Date().addingTimeInterval(600), issuer: String? = nil,
                       audience: String? = nil, notBefore: Date? = nil, issuedAt: Date? = nil) -> StaffClaims {
        StaffClaims(staffID: staff, organisationID: org, roles: [.staff], expires: expires, issuer: issuer, audience: audience,
                    notBefore: notBefore, issuedAt: issuedAt)
    }

    /// The reason a token with `claims` is refused by `keys`, or nil when it is accepted.
    static func refusal(_ claims: StaffClaims, by keys: StaffTokenKeys) async throws -> String? {
        let token = try await keys.sign(claims)
        do {
            _ = try await keys.verify(token)
            return nil
        } catch let refusal as StaffTokenRefusal {
            return refusal.message
        }
    }

    @Test("jwt-kit's refusals are told apart by their type: expired, a signature that does not match, malformed")
    func signatureRefusals() async throws {
        let keys = try await Self.keys()
        #expect(try await Self.refusal(Self.claims(expires: Date().addingTimeInterval(-60)), by: keys) == "it has expired")
        let token = try await keys.sign(Self.claims())
        let tampered = String(token.dropLast(4)) + (token.hasSuffix("AAAA") ? "BBBB" : "AAAA")
        let malformed = String(token.split(separator: ".")[0]) + ".e30"  // a known algorithm, then no signature part
        for (text, reason) in [(tampered, "its signature does not match"), (malformed, "it is malformed or not signed for this service")] {
            await #expect(throws: StaffTokenRefusal.self) { _ = try await keys.verify(text) }
            do {
                _ = try await keys.verify(text)
            } catch let refusal as StaffTokenRefusal {
                #expect(refusal.message == reason)
            }
        }
    }

    @Test("a lifetime beyond the maximum is refused (exp = 1e300 too), from now and from iat")
    func lifetime() async throws {
        let keys = try await Self.keys(StaffTokenPolicy(maximumLifetime: 3600))
        #expect(try await Self.refusal(Self.claims(expires: Date(timeIntervalSince1970: 1e300)), by: keys)?.contains("longer than") == true)
        #expect(try await Self.refusal(Self.claims(expires: Date().addingTimeInterval(7200)), by: keys)?.contains("longer than") == true)
        #expect(try await Self.refusal(Self.claims(expires: Date().addingTimeInterval(3000), issuedAt: Date().addingTimeInterval(-1200)), by: keys)?
            .contains("exp - iat") == true)
        #expect(try await Self.refusal(Self.claims(expires: Date().addingTimeInterval(3000)), by: keys) == nil)
    }

    @Test("nbf in the future and iat in the future are refused; in the past they are fine")
    func notBefore() async throws {
        let keys = try await Self.keys()
        #expect(try await Self.refusal(Self.claims(notBefore: Date().addingTimeInterval(600)), by: keys)?.contains("nbf") == true)
        #expect(try await Self.refusal(Self.claims(issuedAt: Date().addingTimeInterval(600)), by: keys)?.contains("iat") == true)
        #expect(try await Self.refusal(Self.claims(notBefore: Date().addingTimeInterval(-5), issuedAt: Date().addingTimeInterval(-5)), by: keys) == nil)
        #expect(try await Self.refusal(Self.claims(notBefore: Date().addingTimeInterval(30)), by: keys) == nil, "within the 60 s leeway")
    }

    @Test("sub and org must be non-empty, short and free of control characters", arguments: [
        ("org\u{0}x", "s-1"), ("org-1", "s\u{0}"), ("", "s-1"), ("org-1", ""), (String(repeating: "o", count: 257), "s-1"), ("org\n1", "s-1"),
    ])
    func claimText(_ org: String, _ staff: String) async throws {
        #expect(try await Self.refusal(Self.claims(org: org, staff: staff), by: try await Self.keys()) != nil)
    }

    @Test("issuers: unlisted or missing iss is refused; a bound issuer signs only for its organisations")
    func issuers() async throws {
        let keys = try await Self.keys(StaffTokenPolicy(issuers: try StaffTokenPolicy.issuers("idp-a, idp-b=org-1|org-2")))
        #expect(try await Self.refusal(Self.claims(), by: keys)?.contains("no issuer") == true)
        #expect(try await Self.refusal(Self.claims(issuer: "idp-c"), by: keys)?.contains("not accepted") == true)
        #expect(try await Self.refusal(Self.claims(org: "org-3", issuer: "idp-b"), by: keys)?.contains("may not sign for this organisation") == true)
        #expect(try await Self.refusal(Self.claims(org: "org-2", issuer: "idp-b"), by: keys) == nil)
        #expect(try await Self.refusal(Self.claims(org: "org-3", issuer: "idp-a"), by: keys) == nil)
    }

    @Test("audience: a token must name it")
    func audience() async throws {
        let keys = try await Self.keys(StaffTokenPolicy(audience: "commlog"))
        #expect(try await Self.refusal(Self.claims(), by: keys)?.contains("aud") == true)
        #expect(try await Self.refusal(Self.claims(audience: "billing"), by: keys)?.contains("aud") == true)
        #expect(try await Self.refusal(Self.claims(audience: "commlog"), by: keys) == nil)
    }

    @Test("COMMLOG_JWT_ISSUERS is read, and refused when it lists nothing usable")
    func issuerList() throws {
        let issuers = try StaffTokenPolicy.issuers(" idp-a ,idp-b = org-1 | org-2 ")
        #expect(issuers["idp-a"] == .some(nil))
        #expect(issuers["idp-b"] == .some(["org-1", "org-2"]))
        #expect(throws: TokenConfigurationError.self) { try StaffTokenPolicy.issuers(" , ") }
        #expect(throws: TokenConfigurationError.self) { try StaffTokenPolicy.issuers("idp-a=") }
        #expect(throws: TokenConfigurationError.self) { try StaffTokenPolicy.issuers("=org-1") }
    }
}
