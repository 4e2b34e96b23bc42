import Foundation

/// A program's resident memory, from `/proc/<pid>/status`: `VmRSS`, what it holds now, and `VmHWM`, the most it
/// has held since it started (the kernel keeps that mark, so no short peak falls between two samples). The
/// issue's bounds: 40 MB idle, 150 MB at full speed.
struct ResidentMemory: Sendable {
    static let idleLimit = 40.0, busyLimit = 150.0

    let pid: pid_t

    /// The resident memory now, in MB (1 MB = 2^20 bytes); nil once the process is gone.
    var megabytes: Double? { Self.megabytes("VmRSS", of: pid) }

    /// The most it has held so far, in MB; nil once the process is gone.
    var peakMegabytes: Double? { Self.megabytes("VmHWM", of: pid) }

    /// One line for the benchmark's report: idle and peak against the bounds.
    static func report(program: String, idle: Double?, peak: Double?) -> String {
        func text(_ megabytes: Double?, limit: Double) -> String {
            megabytes.map { String(format: "%.1f MB (limit %.0f)", $0, limit) } ?? "unknown"
        }
        return "  \(program) resident memory: idle \(text(idle, limit: idleLimit)), peak \(text(peak, limit: busyLimit))"
    }

    static func megabytes(_ field: String, of pid: pid_t) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("\(field):") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
        }
        return nil
    }
}
