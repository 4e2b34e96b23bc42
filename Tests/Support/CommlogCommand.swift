import Foundation

/// Runs the built `commlog` command with `arguments`, `input` on standard input and `environment` added to the
/// test's own; returns its exit status and its output (standard output and error, merged).
public func commlogCommand(_ arguments: [String], input: String? = nil, environment extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    let bin = try TestEnvironment.variable("COMMLOG_BIN")
    let output = NSTemporaryDirectory() + "commlog-\(UUID().uuidString).txt"
    defer { try? FileManager.default.removeItem(atPath: output) }
    var environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    environment["COMMLOG_INPUT"] = input ?? ""
    let quoted = arguments.map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " ")
    let process = try ChildProcess(
        executable: "/bin/sh", arguments: ["-c", "printf '%s\\n' \"$COMMLOG_INPUT\" | \"\(bin)/commlog\" \(quoted) 2>&1"],
        environment: environment, outputPath: output
    )
    let status = await process.wait()
    return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
}
