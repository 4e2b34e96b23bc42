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

    /// Whether `secret` is a live (not revoked) integration secret of `organisationID`.
    func accepts(_ secret: String, organisationID: String) async throws -> Bool {
        let hash = Self.sha256(secret)
        return try await database.withTenant(organisationID) { connection in
            for try await _ in try await connection.query(
                "SELECT 1 FROM call_integrations WHERE organisation_id = \(organisationID) AND secret_sha256 = \(hash) AND revoked_at IS NULL",
                logger: logger
            ).decode(Int.self) {
                return true
            }
            return false
        }
    }
}
