import ArgumentParser
import CommlogRuntime
import Foundation
import IMAP
import Integrations
import Logging
import PostgresNIO
import Storage

/// `commlog mailbox add|list|disable|reseal`: the shared mailboxes the email ingestor imports.
struct MailboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox",
        abstract: "Add, list and disable shared mailboxes; replace a password; reseal secrets after a key rotation.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, Remove.self, Secret.self, Reseal.self]
    )

    enum TLS: String, ExpressibleByArgument, CaseIterable { case implicit, starttls, none }

    /// A refresh grant instead of a password or an access token: the ingestor fetches an access token for
    /// each login (Microsoft 365, Google Workspace).
    struct OAuth2Options: ParsableArguments {
        @Option(name: .customLong("oauth2-token-url"),
                help: "OAuth2 token endpoint: standard input then holds a refresh token (and, on a second line, a client secret).")
        var tokenURL: String?
        @Option(name: .customLong("oauth2-client-id"), help: "OAuth2 client (application) id, with --oauth2-token-url.") var clientID: String?
        @Option(name: .customLong("oauth2-scope"), help: "OAuth2 scopes to ask for, with --oauth2-token-url.") var scope: String?

        /// The secret kind and the text to seal, read from standard input.
        func secret(accessToken: Bool) throws -> (kind: String, text: String) {
            guard let tokenURL else {
                guard clientID == nil, scope == nil else { throw ValidationError("--oauth2-client-id and --oauth2-scope go with --oauth2-token-url") }
                let secret = readLine(strippingNewline: true) ?? ""
                guard !secret.isEmpty else { throw ValidationError("give the \(accessToken ? "OAuth2 token" : "password") on standard input") }
                return (accessToken ? "xoauth2" : "password", secret)
            }
            guard !accessToken else { throw ValidationError("--oauth2 (an access token) and --oauth2-token-url (a refresh token) exclude each other") }
            guard let clientID else { throw ValidationError("--oauth2-token-url needs --oauth2-client-id") }
            let refreshToken = readLine(strippingNewline: true) ?? ""
            guard !refreshToken.isEmpty else {
                throw ValidationError("give the refresh token on standard input (and the client secret, if the client has one, on the next line)")
            }
            let clientSecret = readLine(strippingNewline: true).flatMap { $0.isEmpty ? nil : $0 }
            do {
                let grant = try OAuth2RefreshGrant(tokenURL: tokenURL, clientID: clientID, clientSecret: clientSecret, refreshToken: refreshToken, scope: scope)
                return ("oauth2", try grant.encoded())
            } catch let error as OAuth2GrantError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a shared mailbox; the password (or OAuth2 token) is read from standard input. Prints the mailbox id."
        )

        @Option(help: "The organisation.") var org: String
        @Option(help: "The mailbox's email address.") var address: String
        @Option(help: "IMAP server host.") var host: String
        @Option(help: "IMAP server port (993 implicit TLS, 143 STARTTLS).") var port: Int
        @Option(help: "implicit, starttls or none (none only for a server on this machine: 127.0.0.1, localhost).") var tls: TLS
        @Option(help: "IMAP user name.") var user: String
        @Option(help: "First sync imports only messages received on or after this day (YYYY-MM-DD).") var since: String?
        @Flag(help: "Standard input holds an OAuth2 access token (AUTHENTICATE XOAUTH2) rather than a password.") var oauth2 = false
        @OptionGroup var refresh: OAuth2Options
        @Option(help: "Another address the mailbox sends from (repeat for several): its mail is outbound too.") var alias: [String] = []
        @Option(help: "Folder of inbound mail (default INBOX).") var inboundFolder: String?
        @Option(help: "Folder of outbound mail (default: the folder flagged \\Sent, found again on every check).") var outboundFolder: String?

        func validate() throws {
            guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
            if tls == .none, !IMAPAccount.isLoopback(host) {
                throw ValidationError("--tls none sends the password in clear: it is only for a server on this machine (use implicit or starttls for \(host))")
            }
            if let since, since.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) == nil { throw ValidationError("--since must be YYYY-MM-DD") }
        }

        func run() async throws {
            let (kind, secret) = try refresh.secret(accessToken: oauth2)
            let sealer = try ProgramConfiguration.forAdmin().secretSealer()
            // The id is chosen here: the secret is sealed bound to it.
            let newID = UUID()
            let sealed = try sealer.seal(secret, for: .mailbox(organisation: org, id: newID))
            try await withDatabase { database in
                guard let id = try await MailboxStore(database: database, logger: database.logger).add(
                    organisationID: org, id: newID, address: address, host: host, port: port, tls: tls.rawValue, username: user,
                    secretKind: kind, sealed: sealed, since: since, inboundFolder: inboundFolder, outboundFolder: outboundFolder,
                    aliases: alias.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                ) else { throw ValidationError("the mailbox was not added") }
                print(id.uuidString.lowercased())
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List mailboxes with their status: last success, last error, lag.")

        @Option(help: "Only this organisation's mailboxes.") var org: String?
        @Flag(help: "Print a JSON array instead of text.") var json = false

        func run() async throws {
            try await withDatabase { database in
                let store = MailboxStore(database: database, logger: database.logger)
                var organisations = org.map { [$0] } ?? []
                if org == nil { organisations = try await store.organisations() }
                var printed = 0
                var objects: [[String: Any?]] = []
                for organisation in organisations {
                    for box in try await store.list(organisationID: organisation) {
                        printed += 1
                        if json {
                            objects.append(["id": box.id, "organisation_id": organisation, "address": box.address, "host": box.host, "port": box.port,
                                            "tls": box.tls, "enabled": box.enabled, "last_success_at": box.lastSuccessAt, "lag_s": box.lagSeconds,
                                            "last_error": box.lastError, "last_error_at": box.lastErrorAt, "folders": box.folders])
                            continue
                        }
                        print("\(box.id.uuidString.lowercased())  org=\(organisation)  \(box.address)  \(box.host):\(box.port) tls=\(box.tls)  \(box.enabled ? "enabled" : "disabled")")
                        print("    last success: \(box.lastSuccessAt ?? "never")  lag: \(box.lagSeconds.map { "\($0)s" } ?? "-")  folders: \(box.folders ?? "-")")
                        if let error = box.lastError { print("    last error (\(box.lastErrorAt ?? "?")): \(error)") }
                    }
                }
                if json { try JSONOutput.print(objects) } else if printed == 0 { print("No mailboxes.") }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop importing a mailbox (what was imported stays in the log).")
        @Option(help: "The organisation.") var org: String
        @Argument(help: "The mailbox id (from `list`) or its address.") var mailbox: String
        func run() async throws {
            try await MailboxCommand.change(mailbox, of: org, .disable, done: "Disabled. The ingestor stops polling it within a minute.")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a disabled mailbox again, from where it stopped.")
        @Option(help: "The organisation.") var org: String
        @Argument(help: "The mailbox id (from `list`) or its address.") var mailbox: String
        func run() async throws {
            try await MailboxCommand.change(mailbox, of: org, .enable, done: "Enabled. The ingestor polls it within a minute.")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a mailbox, its sealed secret and its progress (what was imported stays in the log).")
        @Option(help: "The organisation.") var org: String
        @Argument(help: "The mailbox id (from `list`) or its address.") var mailbox: String
        func run() async throws { try await MailboxCommand.change(mailbox, of: org, .remove, done: "Removed.") }
    }

    /// Enables, disables or removes one mailbox, by id or address, and says `done`.
    static func change(_ mailbox: String, of org: String, _ change: MailboxStore.Change, done: String) async throws {
        try await withDatabase { database in
            let store = MailboxStore(database: database, logger: database.logger)
            guard let id = try await store.id(of: mailbox, organisationID: org), try await store.apply(change, to: id, organisationID: org) else {
                throw ValidationError("no mailbox \(mailbox) in organisation \(org)")
            }
            print(done)
        }
    }

    struct Secret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a mailbox's password (or OAuth2 token), read from standard input, and enable it again."
        )

        @Option(help: "The organisation.") var org: String
        @Argument(help: "The mailbox id (from `list`) or its address.") var mailbox: String
        @Flag(help: "Standard input holds an OAuth2 access token rather than a password.") var oauth2 = false
        @OptionGroup var refresh: OAuth2Options

        func run() async throws {
            let (kind, secret) = try refresh.secret(accessToken: oauth2)
            let sealer = try ProgramConfiguration.forAdmin().secretSealer()
            try await withDatabase { database in
                // The secret is sealed bound to the mailbox's id, so the id comes first.
                let store = MailboxStore(database: database, logger: database.logger)
                guard let id = try await store.id(of: mailbox, organisationID: org),
                      try await store.replaceSecret(of: id, organisationID: org, kind: kind, sealed: try sealer.seal(secret, for: .mailbox(organisation: org, id: id)))
                else { throw ValidationError("no mailbox \(mailbox) in organisation \(org)") }
                print("Secret replaced; the mailbox is enabled.")
            }
        }
    }

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal every mailbox secret again with COMMLOG_SECRET_KEY, bound to its mailbox (after rotating the key, the old one in COMMLOG_SECRET_KEY_PREVIOUS; or after an upgrade from unbound secrets)."
        )

        func run() async throws {
            let sealer = try ProgramConfiguration.forAdmin().secretSealer()
            try await withDatabase { database in
                let store = MailboxStore(database: database, logger: database.logger)
                var resealed = 0, unopened = 0
                for organisation in try await store.organisations() {
                    // Every secret: sealed with an older key, or before secrets were bound to their mailbox.
                    for (id, ciphertext, keyID) in try await store.sealedSecrets(organisationID: organisation) {
                        let context = SecretSealer.Context.mailbox(organisation: organisation, id: id)
                        let opened: SecretSealer.Opened
                        do {
                            opened = try sealer.open(ciphertext, keyID: keyID, for: context)
                        } catch {
                            print("mailbox \(id.uuidString.lowercased()) (org \(organisation)) left as it is: \(error)")
                            unopened += 1
                            continue
                        }
                        guard opened.needsReseal else { continue }
                        try await store.reseal(id, organisationID: organisation, sealed: try sealer.seal(opened.secret, for: context))
                        resealed += 1
                    }
                }
                print("Resealed \(resealed) secret(s) with key \(sealer.currentKeyID).")
                if unopened > 0 { throw ExitCode(1) }
            }
        }
    }
}
