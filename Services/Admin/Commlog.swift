import ArgumentParser
import CommlogRuntime

/// `commlog`: the admin command, with the same configuration keys as the services.
@main
struct Commlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commlog",
        abstract: "Administer Commlog: migrations, dead letters, configuration, imports.",
        discussion: "Reads the same COMMLOG_* environment variables as the services (see `commlog config`).",
        subcommands: [Migrate.self, Token.self, LaunchURL.self, DeadLetters.self, DemoData.self, Config.self, CallIntegration.self, SMDR.self, MailboxCommand.self, Import.self]
    )
}

extension ProgramConfiguration {
    /// The configuration as the admin command sees it.
    static func forAdmin() throws -> ProgramConfiguration {
        try ProgramConfiguration(program: "commlog", defaultHTTPPort: 8080)
    }
}
