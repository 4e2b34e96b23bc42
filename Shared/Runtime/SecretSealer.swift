import Configuration
import Crypto
import Foundation

/// Seals mailbox secrets (passwords, OAuth2 tokens) and Twilio auth tokens with AES-256-GCM before they are
/// stored, bound to the row they belong to (organisation and id, as associated data), and opens them in the
/// email ingestor and call-bridge. The stored box is AES-GCM's combined form (nonce, ciphertext, tag) and the id of
/// the key that sealed it, so that keys can be rotated: new secrets are sealed with the current key, old
/// ones still open with a previous key until `commlog mailbox reseal` has sealed them again.
public struct SecretSealer: Sendable {
    /// The key that seals; its id is stored with each secret.
    public let currentKeyID: String
    private let keys: [String: SymmetricKey]

    /// - Parameters:
    ///   - current: the key new secrets are sealed with (32 bytes).
    ///   - previous: keys that only open (the ones being rotated out).
    public init(current: SymmetricKey, previous: [SymmetricKey] = []) {
        currentKeyID = Self.keyID(current)
        var keys = [currentKeyID: current]
        for key in previous { keys[Self.keyID(key)] = key }
        self.keys = keys
    }

    /// The key id: the first 16 hex digits of the key's SHA-256, which identifies a key without revealing it.
    public static func keyID(_ key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { SHA256.hash(data: Data($0)) }
        return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// What a secret belongs to, sealed in with it as AES-GCM's associated data: a box copied into another row
    /// (another mailbox, another organisation's integration) does not open there.
    public struct Context: Sendable, Equatable {
        let text: String

        /// A mailbox's secret.
        public static func mailbox(organisation: String, id: UUID) -> Context {
            Context(text: "commlog mailbox\u{0}\(organisation)\u{0}\(id.uuidString.lowercased())")
        }

        /// A call integration's Twilio auth token.
        public static func callIntegration(organisation: String, id: UUID) -> Context {
            Context(text: "commlog call-integration\u{0}\(organisation)\u{0}\(id.uuidString.lowercased())")
        }
    }

    /// A secret as opened, and whether its box should be sealed again: with an older key, or before boxes
    /// were bound to what they belong to.
    public struct Opened: Sendable {
        public let secret: String
        public let needsReseal: Bool
    }

    /// Seals `secret` with the current key, bound to `context`.
    public func seal(_ secret: String, for context: Context) throws -> (ciphertext: [UInt8], keyID: String) {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: keys[currentKeyID]!, authenticating: Data(context.text.utf8)).combined else {
            throw SecretSealerError("AES-GCM produced no combined box")
        }
        return (Array(combined), currentKeyID)
    }

    /// Opens a sealed secret of `context` with the key that sealed it. A box sealed before boxes were bound
    /// (no associated data) still opens, once, and says it needs sealing again: the caller stores it bound.
    public func open(_ ciphertext: [UInt8], keyID: String, for context: Context) throws -> Opened {
        guard let key = keys[keyID] else {
            throw SecretSealerError("the secret was sealed with key \(keyID), which is not configured (COMMLOG_SECRET_KEY or COMMLOG_SECRET_KEY_PREVIOUS)")
        }
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(combined: Data(ciphertext))
        } catch {
            throw SecretSealerError("the stored secret is not an AES-GCM box")
        }
        if let opened = try? AES.GCM.open(box, using: key, authenticating: Data(context.text.utf8)) {
            return Opened(secret: String(decoding: opened, as: UTF8.self), needsReseal: needsReseal(keyID: keyID))
        }
        if let legacy = try? AES.GCM.open(box, using: key) {
            return Opened(secret: String(decoding: legacy, as: UTF8.self), needsReseal: true)
        }
        throw SecretSealerError("the secret does not open with key \(keyID) for this \(context.text.split(separator: "\u{0}").first ?? "row") (tampered, moved from another row, or wrong key)")
    }

    /// Whether a secret sealed with `keyID` should be sealed again with the current key.
    public func needsReseal(keyID: String) -> Bool { keyID != currentKeyID }
}

extension SecretSealer: CustomStringConvertible {
    /// Key ids only: a sealer may end up in a log line (service-lifecycle describes its services at debug level).
    public var description: String { "SecretSealer(current key \(currentKeyID), \(keys.count) key(s))" }
}

/// A secret that cannot be sealed or opened; never carries the secret itself.
public struct SecretSealerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension ProgramConfiguration {
    /// The sealer from `COMMLOG_SECRET_KEY` (or the file `COMMLOG_SECRET_KEY_FILE` names) and the keys of
    /// `COMMLOG_SECRET_KEY_PREVIOUS`; each is base64 of 32 bytes.
    public func secretSealer() throws -> SecretSealer {
        guard let text = reader.string(forKey: .init(ConfigurationKey.secretKey), isSecret: true) else {
            throw ConfigurationError(key: .secretKey, "is required to seal and open mailbox secrets (or set COMMLOG_SECRET_KEY_FILE); create one with `openssl rand -base64 32`")
        }
        let current = try Self.symmetricKey(text, key: .secretKey)
        let previous = try (reader.string(forKey: .init(ConfigurationKey.secretKeyPrevious), isSecret: true) ?? "")
            .split(separator: ",").map { try Self.symmetricKey(String($0), key: .secretKeyPrevious) }
        return SecretSealer(current: current, previous: previous)
    }

    private static func symmetricKey(_ text: String, key: ConfigurationKey) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw ConfigurationError(key: key, "must be base64 of exactly 32 bytes (`openssl rand -base64 32`)")
        }
        return SymmetricKey(data: data)
    }
}
