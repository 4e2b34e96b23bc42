import Crypto
import Foundation
import Logging
import PostgresNIO
import Storage

/// Checks a phone system's secret against the organisation's call integrations (only their SHA-256 is stored).
struct IntegrationSecrets: Sendable {
    let database: Database
    let logger: Logger

    static func sha256(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A live integration the secret belongs to.
    struct Integration: Sendable {
        let organisationID: String
        let id: UUID
        /// The Twilio auth token, sealed (bound to the integration), when the integration is Twilio's.
        let twilioToken: (ciphertext: [UInt8], keyID: String)?
    }

    /// Whether `secret` is a live (not revoked) integration secret of `organisationID`.
    func accepts(_ secret: String, organisationID: String) async throws -> Bool {
        try await integration(secret, organisationID: organisationID) != nil
    }

    /// The live (not revoked) integration of `organisationID` whose secret `secret` is; nil for none.
    func integration(_ secret: String, organisationID: String) async throws -> Integration? {
        let hash = Self.sha256(secret)
        return try await database.withTenant(organisationID) { connection in
            for try await (id, ciphertext, keyID) in try await connection.query("""
                SELECT id, twilio_auth_token_ciphertext, twilio_auth_token_key_id FROM call_integrations
                WHERE organisation_id = \(organisationID) AND secret_sha256 = \(hash) AND revoked_at IS NULL
                """, logger: logger
            ).decode((UUID, ByteBuffer?, String?).self) {
                guard let ciphertext, let keyID else { return Integration(organisationID: organisationID, id: id, twilioToken: nil) }
                return Integration(organisationID: organisationID, id: id, twilioToken: (Array(ciphertext.readableBytesView), keyID))
            }
            return nil
        }
    }
}
