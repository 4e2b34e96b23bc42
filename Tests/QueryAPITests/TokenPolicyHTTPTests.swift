import Auth
import CommlogDomain
import Foundation
import Testing
import TestSupport

/// The real query-api with an issuer bound to its organisation and an audience: tokens that are signed
/// correctly but say the wrong thing are answered 401 with the reason, never 500.
@Suite("query-api: token policy")
struct TokenPolicyHTTPTests {
    @Test("wrong issuer, organisation, audience, lifetime or claim text: 401 problems; a right token: 200")
    func refusals() async throws {
        let api = try await QueryAPIHarness(environment: [
            "COMMLOG_JWT_ISSUERS": "practice-idp, branch-idp=\(TestEnvironment.unique("org-branch"))",
            "COMMLOG_JWT_AUDIENCE": "commlog", "COMMLOG_JWT_MAX_LIFETIME_S": "3600",
        ])
        let later = Date().addingTimeInterval(600)
        func token(org: String? = nil, staff: String = "m-1", expires: Date = later, issuer: String? = "practice-idp", audience: String? = "commlog") async throws -> String {
            try await api.keys.sign(StaffClaims(staffID: staff, organisationID: org ?? api.organisationID, roles: [.manager], expires: expires,
                                                issuer: issuer, audience: audience))
        }
        let cases: [(String, String)] = [
            (try await token(issuer: "branch-idp"), "may not sign for this organisation"),
            (try await token(issuer: "someone-else"), "not accepted"),
            (try await token(issuer: nil), "no issuer"),
            (try await token(audience: "billing"), "aud"),
            (try await token(audience: nil), "aud"),
            (try await token(expires: Date(timeIntervalSince1970: 1e300)), "longer than"),
            (try await token(expires: later.addingTimeInterval(7200)), "longer than"),
            (try await token(staff: "m\u{0}1"), "control characters"),
            (try await token(org: "org\u{0}x"), "control characters"),
        ]
        for (value, reason) in cases {
            let reply = try await api.send("GET", "/v1/communications", token: value)
            #expect(reply.status == 401, "\(reason): \(reply.status) \(reply.detail)")
            #expect(reply.detail.contains(reason), "\(reply.detail)")
            #expect(reply.headers["content-type"]?.hasPrefix("application/problem+json") == true)
        }
        let good = try await api.send("GET", "/v1/communications", token: try await token())
        #expect(good.status == 200, "\(good.detail)")
        await api.stop()
    }
}
