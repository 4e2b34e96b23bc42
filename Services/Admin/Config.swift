import ArgumentParser
import CommlogRuntime
import Foundation

/// `commlog config`: every configuration key, its default and the value in effect (secrets masked).
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every configuration key with its default and current value.")

    @Flag(help: "Print the README's table of keys (Markdown) instead of the values in effect.")
    var markdown = false

    func run() throws {
        if markdown {
            print("| key | default | read by | what |")
            print("|---|---|---|---|")
            for key in ConfigurationKey.all {
                let cell = { (text: String) in text.replacingOccurrences(of: "|", with: "\\|") }
                let name = key.isSecret ? "`\(key.environmentName)` or `\(key.fileVariant)`" : "`\(key.environmentName)`"
                print("| \(name) | \(key.defaultValue.map { "`\(cell($0))`" } ?? "none") | \(cell(key.programs)) | \(cell(key.summary)) |")
            }
            return
        }
        let environment = try ProgramConfiguration.readingSecretFiles(ProcessInfo.processInfo.environment)
        for key in ConfigurationKey.all {
            let current = environment[key.environmentName].map { key.isSecret ? "(set, secret)" : $0 } ?? "(default)"
            print("\(key.environmentName)=\(current)")
            print("    \(key.summary). Default: \(key.defaultValue ?? "none"). Read by: \(key.programs).")
        }
    }
}
