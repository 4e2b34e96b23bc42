import ArgumentParser
import CommlogRuntime
import Crypto
import Foundation
import PostgresNIO
import Storage

/// `commlog call-integration add`: a webhook secret for an organisation's phone system.
struct CallIntegration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call-integration",
        abstract: "Manage the phone system integrations that post call events to call-bridge.",
        subcommands: [Add.self]
    )

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
