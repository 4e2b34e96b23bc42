import ArgumentParser
import CommlogRuntime
import Logging
import Storage

/// `commlog migrate`: applies the database migrations as the owner role.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database migrations (uses COMMLOG_DATABASE_OWNER_URL; safe to run concurrently)."
    )

    func run() async throws {
        let configuration = try ProgramConfiguration.forAdmin()
        var logger = Logger(label: "commlog.migrate")
        logger.logLevel = .warning
        let applied = try await Migrator.run(configuration: try configuration.ownerDatabase(), logger: logger)
        print(applied.isEmpty ? "The database is up to date." : "Applied migrations \(applied.map(String.init).joined(separator: ", ")).")
    }
}
