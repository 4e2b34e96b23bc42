import Foundation
import Synchronization

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
            // Small pools: the suites run many programs at once against one PostgreSQL.
            environment: ProcessInfo.processInfo.environment.merging(["COMMLOG_DATABASE_POOL_SIZE": "6"]) { _, new in new }
                .merging(environment) { _, new in new },
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

/// A TCP port for a program's HTTP listener: one the kernel just handed out, never the same twice in a run.
public func freePort() -> Int {
    while true {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return Int.random(in: 20_000..<40_000) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress -> Int in
                guard bind(fd, socketAddress, length) == 0, getsockname(fd, socketAddress, &length) == 0 else { return 0 }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        if port > 0, handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
}

private let handedOutPorts = Mutex(Set<Int>())
