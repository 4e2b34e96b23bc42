import Auth
import CommlogDomain
import Foundation

enum StaffTokenKeysForTest {
    /// A well-formed token signed with another secret.
    static func foreignToken() async throws -> String {
        try await StaffTokenKeys.hmac(secret: "another-secret-that-is-long-enough-to-use")
            .sign(StaffClaims(staffID: "s", organisationID: "o", roles: [.staff], expires: Date().addingTimeInterval(600)))
    }
}
