import ArgumentParser
import CommlogRuntime
import Crypto
import Foundation
import PostgresNIO
import Storage

/// `commlog call-integration add|list|revoke`: the webhook secrets of an organisation's phone systems.
struct CallIntegration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call-integration",
        abstract: "Manage the phone system integrations that post call events to call-bridge.",
        subcommands: [Add.self, List.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's integrations: id, created, revoked, whether Twilio's.")

        @Option(help: "The organisation id.") var org: String
        @Flag(help: "Print a JSON array instead of text.") var json = false

        func run() async throws {
            try await withDatabase { database in
                let rows = try await database.withTenant(org) { connection in
                    var rows: [(UUID, Date, Date?, Bool)] = []
                    for try await row in try await connection.query("""
                        SELECT id, created_at, revoked_at, twilio_auth_token_ciphertext IS NOT NULL FROM call_integrations
                        WHERE organisation_id = \(org) ORDER BY created_at
                        """, logger: database.logger).decode((UUID, Date, Date?, Bool).self) {
                        rows.append(row)
                    }
                    return rows
                }
                if json {
                    try JSONOutput.print(rows.map { ["id": $0.0, "created_at": $0.1, "revoked_at": $0.2, "twilio": $0.3] })
                    return
                }
                if rows.isEmpty { print("No call integrations.") }
                for (id, created, revoked, twilio) in rows {
                    print("\(id.uuidString.lowercased())  created=\(created.formatted(.iso8601))  \(revoked.map { "revoked=\($0.formatted(.iso8601))" } ?? "live")\(twilio ? "  twilio" : "")")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an integration: its secret is refused from the next request on (the calls it logged stay).")

        @Option(help: "The organisation id.") var org: String
        @Argument(help: "The integration id (from `list`).") var id: String

        func run() async throws {
            guard let integration = UUID(uuidString: id) else { throw ValidationError("\(id) is not an integration id (a UUID)") }
            try await withDatabase { database in
                let revoked = try await database.withTenant(org) { connection -> Bool in
                    for try await _ in try await connection.query("""
                        UPDATE call_integrations SET revoked_at = coalesce(revoked_at, now())
                        WHERE organisation_id = \(org) AND id = \(integration) RETURNING id
                        """, logger: database.logger).decode(UUID.self) { return true }
                    return false
                }
                guard revoked else { throw ValidationError("no call integration \(id) in organisation \(org)") }
                print("Revoked.")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a webhook secret for the organisation's phone system and print it (only its SHA-256 is stored: it is shown once)."
        )

        @Option(help: "The organisation id.")
        var org: String

        @Flag(help: "A Twilio integration: standard input holds the account's auth token, sealed with COMMLOG_SECRET_KEY; call-bridge then verifies X-Twilio-Signature on every callback.")
        var twilio = false

        func validate() throws {
            if org.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--org must not be empty") }
        }

        func run() async throws {
            var sealed: (ciphertext: [UInt8], keyID: String)?
            let id = UUID()
            if twilio {
                let token = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
                guard !token.isEmpty else { throw ValidationError("give the Twilio auth token on standard input") }
                sealed = try ProgramConfiguration.forAdmin().secretSealer().seal(token, for: .callIntegration(organisation: org, id: id))
            }
            let secret = Self.newSecret()
            let hash = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
            try await withDatabase { database in
                try await database.withTenant(org) { connection in
                    _ = try await connection.query("""
                        INSERT INTO call_integrations (organisation_id, id, secret_sha256, twilio_auth_token_ciphertext, twilio_auth_token_key_id)
                        VALUES (\(org), \(id), \(hash), \(sealed.map { ByteBuffer(bytes: $0.ciphertext) }), \(sealed?.keyID))
                        """, logger: database.logger
                    )
                }
            }
            print(secret)
        }

        /// 32 random bytes, URL-safe base64 without padding (fits a Bearer header and a URL's password).
        static func newSecret() -> String {
            let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            return bytes.base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
    }
}
