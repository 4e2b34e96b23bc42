import Foundation
import Logging
import NIOCore
import PostgresNIO
import Storage

/// The `call_integrations` table, for call-bridge (which checks secrets) and `commlog call-integration`
/// (which adds, lists and revokes them). Only a secret's SHA-256 is stored.
public struct CallIntegrationStore: Sendable {
    public let database: Database
    public let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// One integration as `list` shows it.
    public struct Listed: Sendable {
        public let id: UUID
        public let createdAt: Date
        public let revokedAt: Date?
        public let isTwilio: Bool
    }

    /// A live integration a secret belongs to.
    public struct Live: Sendable {
        public let id: UUID
        /// The Twilio auth token, sealed (bound to the integration), when the integration is Twilio's.
        public let twilioToken: (ciphertext: [UInt8], keyID: String)?
    }

    public func add(organisationID: String, id: UUID, secretSHA256: String, twilioToken: (ciphertext: [UInt8], keyID: String)?) async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query("""
                INSERT INTO call_integrations (organisation_id, id, secret_sha256, twilio_auth_token_ciphertext, twilio_auth_token_key_id)
                VALUES (\(organisationID), \(id), \(secretSHA256), \(twilioToken.map { ByteBuffer(bytes: $0.ciphertext) }), \(twilioToken?.keyID))
                """, logger: logger)
        }
    }

    public func list(organisationID: String) async throws -> [Listed] {
        try await database.withTenant(organisationID) { connection in
            var rows: [Listed] = []
            for try await (id, created, revoked, twilio) in try await connection.query("""
                SELECT id, created_at, revoked_at, twilio_auth_token_ciphertext IS NOT NULL FROM call_integrations
                WHERE organisation_id = \(organisationID) ORDER BY created_at
                """, logger: logger).decode((UUID, Date, Date?, Bool).self) {
                rows.append(Listed(id: id, createdAt: created, revokedAt: revoked, isTwilio: twilio))
            }
            return rows
        }
    }

    /// Revokes an integration (again: nothing changes); false when the organisation has no such integration.
    public func revoke(organisationID: String, id: UUID) async throws -> Bool {
        try await database.withTenant(organisationID) { connection in
            for try await _ in try await connection.query("""
                UPDATE call_integrations SET revoked_at = coalesce(revoked_at, now())
                WHERE organisation_id = \(organisationID) AND id = \(id) RETURNING id
                """, logger: logger).decode(UUID.self) { return true }
            return false
        }
    }

    /// The live (not revoked) integration of the organisation whose secret has `secretSHA256`; nil for none.
    public func live(organisationID: String, secretSHA256: String) async throws -> Live? {
        try await database.withTenant(organisationID) { connection in
            for try await (id, ciphertext, keyID) in try await connection.query("""
                SELECT id, twilio_auth_token_ciphertext, twilio_auth_token_key_id FROM call_integrations
                WHERE organisation_id = \(organisationID) AND secret_sha256 = \(secretSHA256) AND revoked_at IS NULL
                """, logger: logger).decode((UUID, ByteBuffer?, String?).self) {
                guard let ciphertext, let keyID else { return Live(id: id, twilioToken: nil) }
                return Live(id: id, twilioToken: (Array(ciphertext.readableBytesView), keyID))
            }
            return nil
        }
    }
}
