import ArgumentParser
import CommlogRuntime
import Foundation
import Integrations
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
        func run() async throws { try await SMDR.change(id, of: org, done: "Disabled.") { try await $0.setEnabled(false, organisationID: org, id: $1) } }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a disabled link again.")
        @Option(help: "The organisation id.") var org: String
        @Argument(help: "The link id (from `list`).") var id: String
        func run() async throws { try await SMDR.change(id, of: org, done: "Enabled.") { try await $0.setEnabled(true, organisationID: org, id: $1) } }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a link (the calls it logged stay in the log).")
        @Option(help: "The organisation id.") var org: String
        @Argument(help: "The link id (from `list`).") var id: String
        func run() async throws { try await SMDR.change(id, of: org, done: "Removed.") { try await $0.remove(organisationID: org, id: $1) } }
    }

    /// Applies `change` to one link of the organisation; a link it does not have is an error.
    static func change(_ id: String, of org: String, done: String, _ change: @Sendable (SMDRLinkStore, UUID) async throws -> Bool) async throws {
        guard let link = UUID(uuidString: id) else { throw ValidationError("\(id) is not a link id (a UUID)") }
        try await withDatabase { database in
            guard try await change(SMDRLinkStore(database: database, logger: database.logger), link) else {
                throw ValidationError("no SMDR link \(id) in organisation \(org)")
            }
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
                let links = try await SMDRLinkStore(database: database, logger: database.logger).list(organisationID: org)
                if json {
                    try JSONOutput.print(links.map { link in
                        ["id": link.id, "host": link.host, "port": link.port,
                         "layout": (try? JSONSerialization.jsonObject(with: Data(link.layout.utf8))) ?? link.layout,
                         "enabled": link.enabled, "last_connected_at": link.lastConnectedAt, "last_error": link.lastError,
                         "records": link.records, "skipped": link.skipped]
                    })
                    return
                }
                if links.isEmpty { print("No SMDR links.") }
                for link in links {
                    print("\(link.id.uuidString.lowercased())  \(link.host):\(link.port)  \(link.enabled ? "enabled" : "disabled")  layout=\(link.layout)  records=\(link.records)  skipped=\(link.skipped)  connected=\(link.lastConnectedAt?.formatted(.iso8601) ?? "never")")
                    if let error = link.lastError { print("    last error: \(error)") }
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
                if let id = try await SMDRLinkStore(database: database, logger: database.logger).add(organisationID: org, host: host, port: port, layoutJSON: json) {
                    print(id.uuidString.lowercased())
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
