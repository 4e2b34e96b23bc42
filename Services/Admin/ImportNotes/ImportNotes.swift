import ArgumentParser
import CommlogDomain
import Foundation
import LogStore
import Storage

/// `commlog import notes`: the practice's history from its old system.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import the practice's history from its old system.",
        subcommands: [Notes.self]
    )

    struct Notes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import legacy customer notes (CSV with a header row, or JSON Lines) as note entries; their categories become reasons.",
            discussion: """
                Columns (keys): legacy_id, occurred_at, client_id, patient_id, category, text, author_staff_id, location_id \
                (docs/importing-notes.md). Running the same file again adds only what is missing. Bad rows are reported \
                with their line numbers on standard error and skipped. Exit status 1 when the file could not be read to \
                its end, the organisation is unknown, the database failed, or no row of the file could be imported.
                """
        )

        @Option(help: "The organisation the notes belong to.") var org: String
        @Flag(help: "Read and check everything, write nothing.") var dryRun = false
        @Option(help: .hidden) var batchSize = 5_000
        @Argument(help: "The export: CSV with a header row, or JSON Lines.") var file: String

        func validate() throws {
            guard (1...50_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1-50000") }
        }

        func run() async throws {
            let outcome = try await withDatabase { database in
                try await NoteImport(database: database, organisationID: org, path: file, dryRun: dryRun, batchSize: batchSize).run()
            }
            guard outcome.succeeded else { throw ExitCode(1) }
        }
    }
}
