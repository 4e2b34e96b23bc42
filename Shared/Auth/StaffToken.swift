import CommlogDomain
import Foundation
import JWTKit

/// The claims of a staff member's bearer token, as the practice software issues it.
public struct StaffClaims: JWTPayload, Equatable {
    /// The staff id.
    public var sub: SubjectClaim
    /// The organisation id.
    public var org: String
    public var roles: [StaffRole]
    public var exp: ExpirationClaim

    public init(staffID: String, organisationID: String, roles: [StaffRole], expires: Date) {
        self.sub = SubjectClaim(value: staffID)
        self.org = organisationID
        self.roles = roles
        self.exp = ExpirationClaim(value: expires)
    }

    /// The staff id (`sub`).
    public var staffID: String { sub.value }
    /// When the token stops being valid (`exp`).
    public var expiresAt: Date { exp.value }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard !sub.value.isEmpty, !org.isEmpty else { throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "sub and org must not be empty") }
    }
}

/// Signs and verifies staff tokens: HS256 with the configured secret.
public struct StaffTokenKeys: Sendable {
    /// The shortest secret accepted: HMAC-SHA-256 wants at least its output size.
    public static let minimumSecretLength = 32

    let keys: JWTKeyCollection

    /// Fails with a readable error for a secret shorter than 32 bytes.
    public static func hmac(secret: String) async throws(TokenConfigurationError) -> StaffTokenKeys {
        guard secret.utf8.count >= minimumSecretLength else {
            throw TokenConfigurationError(message: "the JWT secret must be at least \(minimumSecretLength) bytes (got \(secret.utf8.count))")
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return StaffTokenKeys(keys: keys)
    }

    public func sign(_ claims: StaffClaims) async throws -> String {
        try await keys.sign(claims)
    }

    /// The claims of a valid, unexpired token; throws for anything else.
    public func verify(_ token: String) async throws -> StaffClaims {
        try await keys.verify(token, as: StaffClaims.self)
    }
}

public struct TokenConfigurationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
