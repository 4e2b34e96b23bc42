import Foundation
import Testing
import TestSupport

/// A value that cannot be used stops a program at start, with a message naming the variable (status 78).
@Suite("Configuration errors")
struct ConfigurationErrorTests {
    static func run(_ program: String, _ environment: [String: String]) async throws -> (status: Int32, output: String) {
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)").path
        let status = try await ChildProcess(
            executable: "\(bin)/\(program)",
            environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
            outputPath: output
        ).wait()
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test("a bad value stops the program at start, naming the variable", arguments: [
        ("reminder-logger", "COMMLOG_AMQP_URL", "http://not-amqp"),
        ("reminder-logger", "COMMLOG_BATCH_SIZE", "lots"),
        ("call-bridge", "COMMLOG_LOG_LEVEL", "loud"),
        ("reminder-logger", "COMMLOG_LOG_FORMAT", "xml"),
        ("email-ingestor", "COMMLOG_DATABASE_URL", "mysql://x@y/z"),
        ("query-api", "COMMLOG_JWT_SECRET", "too-short"),
    ])
    func badValue(program: String, key: String, value: String) async throws {
        let (status, output) = try await Self.run(program, [key: value, "COMMLOG_HTTP_PORT": "\(freePort())"])
        #expect(status == 78, "\(output)")
        #expect(output.contains(key), "\(output)")
    }

    @Test("query-api without a JWT secret stops at start, naming the variable")
    func missingSecret() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["COMMLOG_JWT_SECRET"] = nil
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)").path
        environment["COMMLOG_HTTP_PORT"] = "\(freePort())"
        let status = try await ChildProcess(executable: "\(bin)/query-api", environment: environment, outputPath: output).wait()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 78, "\(text)")
        #expect(text.contains("COMMLOG_JWT_SECRET"), "\(text)")
    }
}
