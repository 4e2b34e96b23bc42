import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(Glibc)
import Glibc
#endif

/// One of the built programs, run as a real process with the test's environment (the stack's addresses).
public final class ProgramProcess: Sendable {
    private let child: ChildProcess
    /// Where the program's output goes.
    public let logPath: String

    /// Starts `$COMMLOG_BIN/<name>` with `environment` added to the test's own; output goes to `.data/logs`.
    public init(_ name: String, environment: [String: String] = [:]) throws {
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        let logs = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".data/logs")
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let logPath = logs.appendingPathComponent("test-\(name)-\(UUID().uuidString.prefix(8)).log").path
        self.logPath = logPath
        child = try ChildProcess(
            executable: URL(fileURLWithPath: bin).appendingPathComponent(name).path,
            // Small pools: the suites run many programs at once against one PostgreSQL.
            environment: ProcessInfo.processInfo.environment.merging(["COMMLOG_DATABASE_POOL_SIZE": "6"]) { _, new in new }
                .merging(environment) { _, new in new },
            outputPath: logPath
        )
    }

    /// Ends the process with `signal` (SIGKILL by default: no chance to finish anything), waits for it and
    /// returns its exit status.
    @discardableResult
    public func kill(_ signal: Int32 = SIGKILL) async -> Int32 {
        child.signal(signal)
        return await child.wait()
    }

    /// What the program has written so far.
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { child.signal(SIGKILL) }
}

/// A TCP port for a program's HTTP listener: free now, below the kernel's ephemeral range, never the same
/// twice in a run.
///
/// Below the ephemeral range because a port the kernel hands out for `bind(0)` can be handed out again as
/// the local port of any outgoing connection (the suites open hundreds, to PostgreSQL and RabbitMQ) before
/// the program binds it: a query-api failed to start with "Address already in use" that way.
public func freePort() -> Int {
    let (first, last) = listenerPortRange
    while true {
        let port = Int.random(in: first...last)
        guard !stackPorts.contains(port), handedOutPorts.withLock({ !$0.contains(port) }), canBind(port) else { continue }
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
}

/// The ports the stack's servers and the tests' own fixed servers use (`COMMLOG_TEST_*_PORT`): free while such a
/// server is not running, yet never to be handed out. A program given the OAuth2 provider's port (31145, in this
/// range) kept the provider of the XOAUTH2 tests from starting.
private let stackPorts: Set<Int> = Set(ProcessInfo.processInfo.environment.compactMap { key, value in
    key.hasPrefix("COMMLOG_TEST_") && key.hasSuffix("_PORT") ? Int(value) : nil
})

/// From 10,000 to just below the ephemeral range (`net.ipv4.ip_local_port_range`, 32768 on Linux by default).
private let listenerPortRange: (Int, Int) = {
    let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let ephemeralStart = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32768
    return (10_000, max(10_100, ephemeralStart - 1))
}()

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

private let handedOutPorts = Mutex(Set<Int>())

extension ProgramProcess {
    /// Whether the program listening on `port` answers `/readyz` with 200 (connected, its queues declared).
    public static func isReady(port: Int) async -> Bool {
        guard let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }
}
