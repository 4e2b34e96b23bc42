import Foundation
import Synchronization

/// A program's resident memory (`VmRSS` in `/proc/<pid>/status`), read while it runs: what it holds idle and
/// the most it held while the benchmark drove it. The bounds: 40 MB idle, 150 MB at full speed.
final class ResidentMemory: Sendable {
    static let idleLimit = 40.0, busyLimit = 150.0

    let pid: pid_t
    private let peakKilobytes = Mutex(0)
    private let sampler = Mutex<Task<Void, Never>?>(nil)

    init(pid: pid_t) { self.pid = pid }

    /// The resident memory now, in MB (1 MB = 2^20 bytes); nil once the process is gone.
    var megabytes: Double? { Self.kilobytes(of: pid).map { Double($0) / 1024 } }

    /// The most seen since `startSampling`, in MB.
    var peakMegabytes: Double { Double(peakKilobytes.withLock { $0 }) / 1024 }

    /// Reads the resident memory every 50 ms, keeping the highest, until `stopSampling`.
    func startSampling() {
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                sample()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        sampler.withLock { $0 = task }
    }

    func stopSampling() {
        sampler.withLock { $0?.cancel() }
        sample()
    }

    private func sample() {
        if let now = Self.kilobytes(of: pid) { peakKilobytes.withLock { $0 = max($0, now) } }
    }

    /// One line for the benchmark's report: idle and peak against the bounds.
    func report(program: String, idle: Double?) -> String {
        let idleText = idle.map { String(format: "%.1f MB (limit %.0f)", $0, Self.idleLimit) } ?? "unknown"
        return String(format: "  %@ resident memory: idle %@, peak %.1f MB (limit %.0f)", program, idleText, peakMegabytes, Self.busyLimit)
    }

    static func kilobytes(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
