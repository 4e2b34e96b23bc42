import ArgumentParser
import CommlogRuntime
import Foundation
import IMAP
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
                let ciphertext = Data(sealed.ciphertext).base64EncodedString()
                let id = try await database.withTenant(org) { connection -> UUID in
                    let rows = try await connection.query("""
                        INSERT INTO mailboxes (organisation_id, id, address, host, port, tls, username, secret_kind, secret_ciphertext,
                                               secret_key_id, since, inbound_folder, outbound_folder, aliases)
                        VALUES (commlog_current_organisation(), \(newID), \(address), \(host), \(port), \(tls.rawValue), \(user), \(kind),
                                decode(\(ciphertext), 'base64'), \(sealed.keyID), \(since)::date, \(inboundFolder), \(outboundFolder),
                                \(alias.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }))
                        RETURNING id
                        """, logger: database.logger)
                    for try await id in rows.decode(UUID.self) { return id }
                    throw ValidationError("the mailbox was not added")
                }
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
                var organisations: [String] = []
                if let org {
                    organisations = [org]
                } else {
                    for try await id in try await database.client.query("SELECT commlog_mailbox_organisations()", logger: database.logger).decode(String.self) {
                        organisations.append(id)
                    }
                }
                var printed = 0
                var objects: [[String: Any?]] = []
                for organisation in organisations {
                    try await database.withTenant(organisation) { connection in
                        let rows = try await connection.query("""
                            SELECT id, address, host, port, tls, enabled,
                                   to_char(last_success_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                   extract(epoch FROM now() - last_success_at)::bigint,
                                   last_error, to_char(last_error_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                   (SELECT string_agg(name || ' uid ' || last_uid, ', ' ORDER BY direction) FROM mailbox_folders f WHERE f.mailbox_id = m.id)
                            FROM mailboxes m ORDER BY address
                            """, logger: database.logger)
                        for try await (id, address, host, port, tls, enabled, success, lag, error, errorAt, folders) in rows.decode(
                            (UUID, String, String, Int, String, Bool, String?, Int64?, String?, String?, String?).self
                        ) {
                            printed += 1
                            if json {
                                objects.append(["id": id, "organisation_id": organisation, "address": address, "host": host, "port": port, "tls": tls,
                                                "enabled": enabled, "last_success_at": success, "lag_s": lag, "last_error": error,
                                                "last_error_at": errorAt, "folders": folders])
                                continue
                            }
                            print("\(id.uuidString.lowercased())  org=\(organisation)  \(address)  \(host):\(port) tls=\(tls)  \(enabled ? "enabled" : "disabled")")
                            print("    last success: \(success ?? "never")  lag: \(lag.map { "\($0)s" } ?? "-")  folders: \(folders ?? "-")")
                            if let error { print("    last error (\(errorAt ?? "?")): \(error)") }
                        }
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
            try await MailboxCommand.change(mailbox, of: org, "UPDATE mailboxes SET enabled = false", done: "Disabled. The ingestor stops polling it within a minute.")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a disabled mailbox again, from where it stopped.")
        @Option(help: "The organisation.") var org: String
        @Argument(help: "The mailbox id (from `list`) or its address.") var mailbox: String
        func run() async throws {
            try await MailboxCommand.change(mailbox, of: org, "UPDATE mailboxes SET enabled = true", done: "Enabled. The ingestor polls it within a minute.")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a mailbox, its sealed secret and its progress (what was imported stays in the log).")
        @Option(help: "The organisation.") var org: String
        @Argument(help: "The mailbox id (from `list`) or its address.") var mailbox: String
        func run() async throws { try await MailboxCommand.change(mailbox, of: org, "DELETE FROM mailboxes", done: "Removed.") }
    }

    /// Runs `statement` (an UPDATE or DELETE of `mailboxes`) on one mailbox, by id or address, and says `done`.
    static func change(_ mailbox: String, of org: String, _ statement: String, done: String) async throws {
        var query = PostgresQuery(unsafeSQL: statement + " WHERE id::text = $1 OR lower(address) = $1 RETURNING id")
        query.binds.append(mailbox.lowercased())
        try await withDatabase { database in
            try await MailboxCommand.update(mailbox, of: org, in: database, query)
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
                let id = try await database.withTenant(org) { connection -> UUID? in
                    for try await id in try await connection.query(
                        "SELECT id FROM mailboxes WHERE id::text = \(mailbox.lowercased()) OR lower(address) = \(mailbox.lowercased())", logger: database.logger
                    ).decode(UUID.self) { return id }
                    return nil
                }
                let sealed = try sealer.seal(secret, for: .mailbox(organisation: org, id: id ?? UUID()))
                let ciphertext = Data(sealed.ciphertext).base64EncodedString()
                try await MailboxCommand.update(mailbox, of: org, in: database, """
                    UPDATE mailboxes SET secret_ciphertext = decode(\(ciphertext), 'base64'), secret_key_id = \(sealed.keyID),
                                         secret_kind = \(kind), enabled = true, last_error = NULL
                    WHERE id = \(id ?? UUID()) RETURNING id
                    """)
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
                var organisations: [String] = []
                for try await id in try await database.client.query("SELECT commlog_mailbox_organisations()", logger: database.logger).decode(String.self) {
                    organisations.append(id)
                }
                var resealed = 0, unopened = 0
                for organisation in organisations {
                    try await database.withTenant(organisation) { connection in
                        // Every secret: sealed with an older key, or before secrets were bound to their mailbox.
                        var rows: [(UUID, String, String)] = []
                        for try await row in try await connection.query(
                            "SELECT id, encode(secret_ciphertext, 'base64'), secret_key_id FROM mailboxes", logger: database.logger
                        ).decode((UUID, String, String).self) { rows.append(row) }
                        for (id, ciphertext, keyID) in rows {
                            let data = Data(base64Encoded: ciphertext.replacingOccurrences(of: "\n", with: "")) ?? Data()
                            let context = SecretSealer.Context.mailbox(organisation: organisation, id: id)
                            let opened: SecretSealer.Opened
                            do {
                                opened = try sealer.open(Array(data), keyID: keyID, for: context)
                            } catch {
                                print("mailbox \(id.uuidString.lowercased()) (org \(organisation)) left as it is: \(error)")
                                unopened += 1
                                continue
                            }
                            guard opened.needsReseal else { continue }
                            let sealed = try sealer.seal(opened.secret, for: context)
                            try await connection.query("""
                                UPDATE mailboxes SET secret_ciphertext = decode(\(Data(sealed.ciphertext).base64EncodedString()), 'base64'),
                                                     secret_key_id = \(sealed.keyID) WHERE id = \(id)
                                """, logger: database.logger)
                            resealed += 1
                        }
                    }
                }
                print("Resealed \(resealed) secret(s) with key \(sealer.currentKeyID).")
                if unopened > 0 { throw ExitCode(1) }
            }
        }
    }
}

extension MailboxCommand {
    /// Runs `update` (an `UPDATE mailboxes … RETURNING id` of one mailbox, by id or address) in the organisation,
    /// and fails with a readable message when it matched none.
    static func update(_ mailbox: String, of organisation: String, in database: Database, _ update: PostgresQuery) async throws {
        let changed = try await database.withTenant(organisation) { connection -> Int in
            var count = 0
            for try await _ in try await connection.query(update, logger: database.logger).decode(UUID.self) { count += 1 }
            return count
        }
        guard changed > 0 else { throw ValidationError("no mailbox \(mailbox) in organisation \(organisation)") }
    }
}
