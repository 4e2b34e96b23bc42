import Crypto
import Foundation
import Integrations
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

    /// The live (not revoked) integration of `organisationID` whose secret `secret` is; nil for none.
    func integration(_ secret: String, organisationID: String) async throws -> Integration? {
        guard let live = try await CallIntegrationStore(database: database, logger: logger)
            .live(organisationID: organisationID, secretSHA256: Self.sha256(secret)) else { return nil }
        return Integration(organisationID: organisationID, id: live.id, twilioToken: live.twilioToken)
    }
}
