import Foundation
import JWTKit

/// What a staff token must say besides carrying a valid signature: whose it is (`iss`, `aud`), for how long
/// (`exp`, `nbf`, `iat`), and claims that are safe to use (`sub`, `org`).
public struct StaffTokenPolicy: Sendable {
    /// Issuers whose tokens are accepted (`iss`), each with the organisations it may sign for (nil: any).
    /// nil: `iss` is not checked.
    public var issuers: [String: Set<String>?]?
    /// The audience a token must name in `aud`; nil: not checked.
    public var audience: String?
    /// The longest a token may be valid for: `exp` no further than this from now, nor from `iat`. Default 24 h.
    public var maximumLifetime: TimeInterval = 86_400
    /// Clock skew allowed between the issuer and this service, for `nbf` and `iat`. 60 s.
    public var leeway: TimeInterval = 60
    /// The longest `sub` and `org` accepted, in bytes.
    public static let maximumIDLength = 256

    public init(issuers: [String: Set<String>?]? = nil, audience: String? = nil, maximumLifetime: TimeInterval = 86_400) {
        self.issuers = issuers
        self.audience = audience
        self.maximumLifetime = maximumLifetime
    }

    /// Reads `COMMLOG_JWT_ISSUERS`: `issuer` or `issuer=org-1|org-2`, comma-separated.
    public static func issuers(_ text: String) throws(TokenConfigurationError) -> [String: Set<String>?] {
        var issuers: [String: Set<String>?] = [:]
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let issuer = parts.first, !issuer.isEmpty else {
                throw TokenConfigurationError(message: "an issuer entry has no issuer (\(entry))")
            }
            if parts.count == 2 {
                let organisations = Set(parts[1].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                guard !organisations.isEmpty else { throw TokenConfigurationError(message: "issuer \(issuer) is bound to no organisation (\(entry))") }
                issuers[issuer] = .some(organisations)
            } else {
                issuers[issuer] = .some(nil)
            }
        }
        guard !issuers.isEmpty else { throw TokenConfigurationError(message: "no issuer is listed") }
        return issuers
    }

    /// Throws a `StaffTokenRefusal` saying what is wrong with `claims`, if anything.
    func check(_ claims: StaffClaims, now: Date = Date()) throws(StaffTokenRefusal) {
        for (name, value) in [("sub", claims.staffID), ("org", claims.org)] {
            guard !value.isEmpty else { throw StaffTokenRefusal("its \(name) is empty") }
            guard value.utf8.count <= Self.maximumIDLength else { throw StaffTokenRefusal("its \(name) is longer than \(Self.maximumIDLength) bytes") }
            guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw StaffTokenRefusal("its \(name) holds control characters")
            }
        }
        if claims.expiresAt.timeIntervalSince(now) > maximumLifetime + leeway {
            throw StaffTokenRefusal("it is valid for longer than the \(Int(maximumLifetime)) s allowed (exp)")
        }
        if let notBefore = claims.nbf?.value, notBefore.timeIntervalSince(now) > leeway {
            throw StaffTokenRefusal("it is not valid yet (nbf)")
        }
        if let issuedAt = claims.iat?.value {
            guard issuedAt.timeIntervalSince(now) <= leeway else { throw StaffTokenRefusal("it was issued in the future (iat)") }
            guard claims.expiresAt.timeIntervalSince(issuedAt) <= maximumLifetime + leeway else {
                throw StaffTokenRefusal("it is valid for longer than the \(Int(maximumLifetime)) s allowed (exp - iat)")
            }
        }
        if let issuers {
            guard let issuer = claims.iss?.value else { throw StaffTokenRefusal("it names no issuer (iss)") }
            guard let organisations = issuers[issuer] else { throw StaffTokenRefusal("its issuer is not accepted here (iss)") }
            if let organisations, !organisations.contains(claims.org) {
                throw StaffTokenRefusal("its issuer may not sign for this organisation (iss, org)")
            }
        }
        if let audience {
            guard claims.aud?.value.contains(audience) == true else { throw StaffTokenRefusal("it is not meant for this service (aud)") }
        }
    }
}

/// Why a token whose signature is valid is refused anyway; the message never echoes the token.
public struct StaffTokenRefusal: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}
