import CommlogRuntime
import Foundation
import Logging

// commlog-bench ingest [events] | mail [messages]: run against the local stack (`make bench-ingest`,
// `make bench-mail` set everything up).
let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "ingest" || arguments.first == "mail" else {
    say("usage: commlog-bench ingest [events (default 100000)] | mail [messages (default 10000)]")
    exit(64)
}
let count = arguments.dropFirst().first.flatMap(Int.init)
let configuration = try ProgramConfiguration(program: "commlog-bench", defaultHTTPPort: 0)
var logger = Logger(label: "bench")
logger.logLevel = .warning
let bin = ProcessInfo.processInfo.environment["COMMLOG_BIN"] ?? CommandLine.arguments[0].split(separator: "/").dropLast().joined(separator: "/")
do {
    let folder = bin.hasPrefix("/") ? bin : "/" + bin
    if arguments.first == "mail" {
        try await MailImportBenchmark(messages: count ?? 10_000, bin: folder, configuration: configuration, logger: logger).run()
    } else {
        try await IngestBenchmark(events: count ?? 100_000, bin: folder, configuration: configuration, logger: logger).run()
    }
} catch {
    say("benchmark failed: \(String(reflecting: error))")
    exit(1)
}
