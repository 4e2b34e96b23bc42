import ArgumentParser
import CommlogRuntime
import Foundation

/// `commlog config`: every configuration key, its default and the value in effect (secrets masked).
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every configuration key with its default and current value.")

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        for key in ConfigurationKey.all {
            let current = environment[key.environmentName].map { key.isSecret ? "(set, secret)" : $0 } ?? "(default)"
            print("\(key.environmentName)=\(current)")
            print("    \(key.summary). Default: \(key.defaultValue ?? "none"). Read by: \(key.programs).")
        }
    }
}
