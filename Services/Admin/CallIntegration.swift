import ArgumentParser
import CommlogRuntime
import Crypto
import Foundation
import Integrations
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
                let rows = try await CallIntegrationStore(database: database, logger: database.logger).list(organisationID: org)
                if json {
                    try JSONOutput.print(rows.map { ["id": $0.id, "created_at": $0.createdAt, "revoked_at": $0.revokedAt, "twilio": $0.isTwilio] })
                    return
                }
                if rows.isEmpty { print("No call integrations.") }
                for row in rows {
                    print("\(row.id.uuidString.lowercased())  created=\(row.createdAt.formatted(.iso8601))  \(row.revokedAt.map { "revoked=\($0.formatted(.iso8601))" } ?? "live")\(row.isTwilio ? "  twilio" : "")")
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
                let revoked = try await CallIntegrationStore(database: database, logger: database.logger).revoke(organisationID: org, id: integration)
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
                try await CallIntegrationStore(database: database, logger: database.logger)
                    .add(organisationID: org, id: id, secretSHA256: hash, twilioToken: sealed)
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
