import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One of the built programs, run as a real process with the test's environment (the stack's addresses).
public final class ProgramProcess: Sendable {
    private let child: ChildProcess

    /// Starts `$COMMLOG_BIN/<name>` with `environment` added to the test's own; output goes to `.data/logs`.
    public init(_ name: String, environment: [String: String] = [:]) throws {
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        let logs = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".data/logs")
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        child = try ChildProcess(
            executable: URL(fileURLWithPath: bin).appendingPathComponent(name).path,
            environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
            outputPath: logs.appendingPathComponent("test-\(name)-\(UUID().uuidString.prefix(8)).log").path
        )
    }

    /// Ends the process with `signal` (SIGKILL by default: no chance to finish anything) and waits for it.
    public func kill(_ signal: Int32 = SIGKILL) async {
        child.signal(signal)
        await child.wait()
    }

    deinit { child.signal(SIGKILL) }
}

/// A TCP port for a program's HTTP listener, unlikely to be taken.
public func freePort() -> Int {
    Int.random(in: 20_000..<40_000)
}
