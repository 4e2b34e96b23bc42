import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid` on a thread of its own.
///
/// Foundation's `Process.waitUntilExit()` spins a run loop on the calling thread and, on Linux, can miss
/// the exit of a child while the cooperative thread pool is busy; tests and benchmarks use this instead.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; standard input is /dev/null, standard output and error go to
    /// `outputPath` (appended) or are inherited; no other descriptor of the test process is inherited.
    public init(executable: String, arguments: [String] = [], environment: [String: String], outputPath: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Nothing else of the test process: its sockets (NIO's are not close-on-exec) would live on in the child.
        // A connection a test's HTTP server had accepted, kept by a long-lived child, held that server's fixed
        // port (the XOAUTH2 provider's) so that the next test could not listen on it.
        closeFrom(&actions, 3)
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The spawning thread may block signals (libdispatch's workers do), and a child inherits that mask:
        // start it with none blocked and default handlers, so that SIGTERM stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw ChildProcessError(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Runs `executable` to the end and returns its exit status.
    public static func run(_ executable: String, _ arguments: String..., environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Int32 {
        try await ChildProcess(executable: executable, arguments: arguments, environment: environment).wait()
    }

    /// Sends `signal` (SIGTERM by default) unless the process has already been reaped.
    public func signal(_ signal: Int32 = SIGTERM) {
        if exitStatus.withLock({ $0 }) == nil { kill(pid, signal) }
    }

    /// Whether the process has ended, without waiting (it is reaped if it has; `wait()` then returns its status at once).
    /// Not for use while a `wait()` is in progress.
    public var hasExited: Bool {
        exitStatus.withLock { status in
            if status != nil { return true }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return false }
            let signalled = raw & 0x7f
            status = signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
            return true
        }
    }

    /// Waits for the process to end, on a thread of its own, and returns its exit status (128 + signal when killed).
    @discardableResult
    public func wait() async -> Int32 {
        if let status = exitStatus.withLock({ $0 }) { return status }
        let pid = self.pid
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let thread = Thread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
                let signalled = raw & 0x7f
                continuation.resume(returning: signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled)
            }
            thread.start()
        }
        exitStatus.withLock { $0 = status }
        return status
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; Debian 12 has 2.36), which the Glibc module
/// does not declare: looked up once.
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

private func closeFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) {
    _ = addCloseFrom?(&actions, lowest)
}
