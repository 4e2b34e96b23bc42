import CommlogDomain
import Foundation
import JWTKit
import Synchronization

/// The claims of a staff member's bearer token, as the practice software issues it.
public struct StaffClaims: JWTPayload, Equatable {
    /// The staff id.
    public var sub: SubjectClaim
    /// The organisation id.
    public var org: String
    public var roles: [StaffRole]
    public var exp: ExpirationClaim
    /// Who issued the token, checked against `StaffTokenPolicy.issuers`.
    public var iss: IssuerClaim?
    /// Whom it is for, checked against `StaffTokenPolicy.audience`.
    public var aud: AudienceClaim?
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim?

    public init(staffID: String, organisationID: String, roles: [StaffRole], expires: Date,
                issuer: String? = nil, audience: String? = nil, notBefore: Date? = nil, issuedAt: Date? = nil) {
        self.sub = SubjectClaim(value: staffID)
        self.org = organisationID
        self.roles = roles
        self.exp = ExpirationClaim(value: expires)
        self.iss = issuer.map { IssuerClaim(value: $0) }
        self.aud = audience.map { AudienceClaim(value: [$0]) }
        self.nbf = notBefore.map { NotBeforeClaim(value: $0) }
        self.iat = issuedAt.map { IssuedAtClaim(value: $0) }
    }

    /// The staff id (`sub`).
    public var staffID: String { sub.value }
    /// When the token stops being valid (`exp`).
    public var expiresAt: Date { exp.value }

    /// The signature's check: not expired. The rest is `StaffTokenPolicy.check`.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and verifies staff tokens: HS256 with the configured secret, and RS256 / ES256 with configured
/// public keys (tokens issued elsewhere, e.g. by the practice software's identity provider).
///
/// A token is checked with the keys of the algorithm its header names; with several public keys of that
/// algorithm, any of them may have signed it.
public struct StaffTokenKeys: Sendable {
    /// The shortest secret accepted: HMAC-SHA-256 wants at least its output size.
    public static let minimumSecretLength = 32

    /// One collection per key, with the `alg` it verifies (HS256, RS256, ES256).
    let verifiers: [(algorithm: String, keys: JWTKeyCollection)]
    /// The HS256 collection, which alone can sign (`commlog token`).
    let signer: JWTKeyCollection?
    /// Tokens already verified, with their claims.
    let verified = VerifiedTokens()
    /// What tokens must say besides their signature.
    public var policy = StaffTokenPolicy()

    /// Fails with a readable error for a secret shorter than 32 bytes.
    public static func hmac(secret: String) async throws(TokenConfigurationError) -> StaffTokenKeys {
        try await make(secret: secret, publicKeysPEM: nil)
    }

    /// Keys from an HS256 secret and/or PEM public keys (RSA for RS256, P-256 for ES256; several may follow
    /// each other in one text). At least one of the two is needed.
    public static func make(secret: String?, publicKeysPEM: String?, policy: StaffTokenPolicy = StaffTokenPolicy()) async throws(TokenConfigurationError) -> StaffTokenKeys {
        var verifiers: [(String, JWTKeyCollection)] = []
        var signer: JWTKeyCollection?
        if let secret {
            guard secret.utf8.count >= minimumSecretLength else {
                throw TokenConfigurationError(message: "the JWT secret must be at least \(minimumSecretLength) bytes (got \(secret.utf8.count))")
            }
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            verifiers.append(("HS256", keys))
            signer = keys
        }
        if let publicKeysPEM {
            let blocks = Self.pemBlocks(publicKeysPEM)
            guard !blocks.isEmpty else { throw TokenConfigurationError(message: "the public key file holds no PEM public key") }
            for (index, block) in blocks.enumerated() {
                let keys = JWTKeyCollection()
                if let rsa = try? Insecure.RSA.PublicKey(pem: block) {
                    await keys.add(rsa: rsa, digestAlgorithm: .sha256)
                    verifiers.append(("RS256", keys))
                } else if let ec = try? ES256PublicKey(pem: block) {
                    await keys.add(ecdsa: ec)
                    verifiers.append(("ES256", keys))
                } else {
                    throw TokenConfigurationError(message: "public key \(index + 1) is neither an RSA key (2048 bits or more) nor a P-256 key")
                }
            }
        }
        guard !verifiers.isEmpty else { throw TokenConfigurationError(message: "configure an HS256 secret or public keys") }
        var keys = StaffTokenKeys(verifiers: verifiers, signer: signer)
        keys.policy = policy
        return keys
    }

    /// Signs with the HS256 secret (local tokens, tests).
    public func sign(_ claims: StaffClaims) async throws -> String {
        guard let signer else { throw TokenConfigurationError(message: "no HS256 secret is configured to sign with") }
        return try await signer.sign(claims)
    }

    /// The claims of a valid, unexpired token that the policy accepts; throws for anything else (a
    /// `StaffTokenRefusal` when the signature is valid but the claims are not).
    public func verify(_ token: String) async throws -> StaffClaims {
        // A client sends the same token with every request until it expires: its signature is checked once.
        if let claims = verified.claims(of: token), claims.expiresAt > Date() { return claims }
        let claims = try await verifySignature(token)
        try policy.check(claims)
        verified.remember(token, claims)
        return claims
    }

    private func verifySignature(_ token: String) async throws -> StaffClaims {
        let algorithm = Self.algorithm(of: token)
        let candidates = verifiers.filter { $0.algorithm == algorithm }
        guard !candidates.isEmpty else {
            throw TokenConfigurationError(message: "tokens signed with \(algorithm ?? "an unknown algorithm") are not accepted here")
        }
        var firstError: (any Error)?
        for candidate in candidates {
            do {
                return try await candidate.keys.verify(token, as: StaffClaims.self)
            } catch {
                firstError = firstError ?? error
            }
        }
        throw Self.refusal(firstError!)
    }

    /// What jwt-kit's error means for the caller, by its type (never by its text): expired, a signature that
    /// does not match, or a token that is malformed or not signed for this service.
    static func refusal(_ error: any Error) -> StaffTokenRefusal {
        guard let jwt = error as? JWTError else { return StaffTokenRefusal("it is malformed or not signed for this service") }
        switch jwt.errorType {
        case .claimVerificationFailure where jwt.failedClaim is ExpirationClaim: return StaffTokenRefusal("it has expired")
        case .signatureVerificationFailed: return StaffTokenRefusal("its signature does not match")
        default: return StaffTokenRefusal("it is malformed or not signed for this service")
        }
    }

    /// The `alg` of a token's header, without verifying anything.
    static func algorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["alg"] as? String
    }

    /// The `-----BEGIN … PUBLIC KEY-----` blocks of a PEM text.
    static func pemBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-----BEGIN") { current = [Substring(trimmed)] }
            else if trimmed.hasPrefix("-----END"), var lines = current {
                lines.append(Substring(trimmed))
                blocks.append(lines.joined(separator: "\n"))
                current = nil
            } else { current?.append(Substring(trimmed)) }
        }
        return blocks
    }
}

public struct TokenConfigurationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The claims of tokens whose signature has been checked, keyed by the whole token (header, claims and
/// signature): a token that differs in any byte is checked again. Expiry is checked on every use. Bounded:
/// when full it starts again empty, which costs one signature check per client.
final class VerifiedTokens: Sendable {
    static let capacity = 10_000
    private let tokens = Mutex<[String: StaffClaims]>([:])

    func claims(of token: String) -> StaffClaims? {
        tokens.withLock { $0[token] }
    }

    func remember(_ token: String, _ claims: StaffClaims) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = claims
        }
    }
}
