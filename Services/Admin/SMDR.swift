import ArgumentParser
import CommlogRuntime
import Foundation
import PostgresNIO
import Storage

/// `commlog smdr add|list|disable|enable|remove`: the organisation's Mitel PBX SMDR links.
struct SMDR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smdr",
        abstract: "Manage the Mitel MiVoice Business SMDR links call-bridge reads calls from.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, Remove.self]
    )

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop reading a link: the replica holding it lets go within its lease.")
        @Option(help: "The organisation id.") var org: String
        @Argument(help: "The link id (from `list`).") var id: String
        func run() async throws { try await SMDR.change(id, of: org, "UPDATE smdr_links SET enabled = false", done: "Disabled.") }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a disabled link again.")
        @Option(help: "The organisation id.") var org: String
        @Argument(help: "The link id (from `list`).") var id: String
        func run() async throws { try await SMDR.change(id, of: org, "UPDATE smdr_links SET enabled = true", done: "Enabled.") }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a link (the calls it logged stay in the log).")
        @Option(help: "The organisation id.") var org: String
        @Argument(help: "The link id (from `list`).") var id: String
        func run() async throws { try await SMDR.change(id, of: org, "DELETE FROM smdr_links", done: "Removed.") }
    }

    /// Runs `statement` (an UPDATE or DELETE of `smdr_links`) on one link of the organisation.
    static func change(_ id: String, of org: String, _ statement: String, done: String) async throws {
        guard let link = UUID(uuidString: id) else { throw ValidationError("\(id) is not a link id (a UUID)") }
        try await withDatabase { database in
            let changed = try await database.withTenant(org) { connection -> Bool in
                var query = PostgresQuery(unsafeSQL: statement + " WHERE organisation_id = $1 AND id = $2 RETURNING id")
                query.binds.append(org)
                query.binds.append(link)
                for try await _ in try await connection.query(query, logger: database.logger).decode(UUID.self) { return true }
                return false
            }
            guard changed else { throw ValidationError("no SMDR link \(id) in organisation \(org)") }
            print(done)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's SMDR links with their state (last connection, last error, records read).")

        @Option(help: "The organisation id.")
        var org: String

        @Flag(help: "Print a JSON array instead of text.") var json = false

        func run() async throws {
            try await withDatabase { database in
                try await database.withTenant(org) { connection in
                    let rows = try await connection.query("""
                        SELECT id, host, port, layout::text, enabled, last_connected_at, last_error, records_total, skipped_total
                        FROM smdr_links WHERE organisation_id = \(org) ORDER BY created_at
                        """, logger: database.logger)
                    var any = false
                    var objects: [[String: Any?]] = []
                    for try await (id, host, port, layout, enabled, connected, error, records, skipped) in rows.decode(
                        (UUID, String, Int, String, Bool, Date?, String?, Int, Int).self
                    ) {
                        any = true
                        if json {
                            objects.append(["id": id, "host": host, "port": port, "layout": (try? JSONSerialization.jsonObject(with: Data(layout.utf8))) ?? layout,
                                            "enabled": enabled, "last_connected_at": connected, "last_error": error, "records": records, "skipped": skipped])
                            continue
                        }
                        print("\(id.uuidString.lowercased())  \(host):\(port)  \(enabled ? "enabled" : "disabled")  layout=\(layout)  records=\(records)  skipped=\(skipped)  connected=\(connected?.formatted(.iso8601) ?? "never")")
                        if let error { print("    last error: \(error)") }
                    }
                    if json { try JSONOutput.print(objects) } else if !any { print("No SMDR links.") }
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect the organisation's PBX SMDR port; prints the link id. A running call-bridge connects within seconds."
        )

        @Option(help: "The organisation id.")
        var org: String

        @Option(help: "The PBX's host name or address.")
        var host: String

        @Option(help: "The PBX's SMDR port.")
        var port = 1752

        @Option(help: "Layout options as set in the PBX's SMDR Options form, comma-separated: extended-digits, ani-dnis, network-format (default: standard).")
        var layout = "standard"

        func validate() throws {
            if org.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--org must not be empty") }
            if host.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--host must not be empty") }
            if !(1...65535).contains(port) { throw ValidationError("--port must be a port number (1-65535)") }
            _ = try Self.layoutJSON(layout)
        }

        func run() async throws {
            let json = try Self.layoutJSON(layout)
            try await withDatabase { database in
                try await database.withTenant(org) { connection in
                    for try await id in try await connection.query(
                        "INSERT INTO smdr_links (organisation_id, host, port, layout) VALUES (\(org), \(host), \(port), \(json)::jsonb) RETURNING id",
                        logger: database.logger
                    ).decode(UUID.self) {
                        print(id.uuidString.lowercased())
                    }
                }
            }
        }

        /// The link's `layout` column for the options (call-bridge's SMDRLayout reads it).
        static func layoutJSON(_ options: String) throws -> String {
            var extended = false, aniDNIS = false, network = false
            for option in options.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "-") })
            where !option.isEmpty {
                switch option {
                case "extended-digits", "extended": extended = true
                case "ani-dnis", "ani", "dnis": aniDNIS = true
                case "network-format", "network": network = true
                case "standard": break
                default: throw ValidationError("unknown --layout option \"\(option)\" (use extended-digits, ani-dnis, network-format or standard)")
                }
            }
            return "{\"extended_digits\": \(extended), \"ani_dnis\": \(aniDNIS), \"network_format\": \(network)}"
        }
    }
}
