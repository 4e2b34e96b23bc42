import CommlogRuntime
import Foundation
import Logging

// commlog-bench ingest [events]: run against the local stack (`make bench-ingest` sets everything up).
let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "ingest" else {
    say("usage: commlog-bench ingest [events (default 100000)]")
    exit(64)
}
let events = arguments.dropFirst().first.flatMap(Int.init) ?? 100_000
let configuration = try ProgramConfiguration(program: "commlog-bench", defaultHTTPPort: 0)
var logger = Logger(label: "bench")
logger.logLevel = .warning
let bin = ProcessInfo.processInfo.environment["COMMLOG_BIN"] ?? CommandLine.arguments[0].split(separator: "/").dropLast().joined(separator: "/")
do {
    try await IngestBenchmark(events: events, bin: bin.hasPrefix("/") ? bin : "/" + bin, configuration: configuration, logger: logger).run()
} catch {
    say("benchmark failed: \(error)")
    exit(1)
}
