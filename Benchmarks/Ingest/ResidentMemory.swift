import Foundation

/// A program's resident memory, from `/proc/<pid>/status`: `VmRSS`, what it holds now, and `VmHWM`, the most it
/// has held since it started (the kernel keeps that mark, so no short peak falls between two samples). The
/// issue's bounds: 40 MB idle, 150 MB at full speed.
struct ResidentMemory: Sendable {
    static let idleLimit = 40.0, busyLimit = 150.0

    let pid: pid_t

    /// Resident memory at one moment, in MB (1 MB = 2^20 bytes), and its two parts: the program's own data
    /// (`RssAnon`: heap, stacks) and pages mapped from files (`RssFile`: its code and the libraries', clean,
    /// shared with the page cache; a page of code that was once run, or lay next to one, stays counted).
    struct Sample: Sendable {
        var resident: Double
        var anonymous: Double
        var file: Double
    }

    /// The resident memory now; nil once the process is gone.
    var now: Sample? {
        guard let resident = Self.megabytes("VmRSS", of: pid), let anonymous = Self.megabytes("RssAnon", of: pid),
              let file = Self.megabytes("RssFile", of: pid) else { return nil }
        return Sample(resident: resident, anonymous: anonymous, file: file)
    }

    /// The most it has held so far, in MB; nil once the process is gone.
    var peakMegabytes: Double? { Self.megabytes("VmHWM", of: pid) }

    /// One line for the benchmark's report: idle and peak against the bounds.
    static func report(program: String, idle: Sample?, peak: Double?) -> String {
        func text(_ megabytes: Double?, limit: Double) -> String {
            megabytes.map { String(format: "%.1f MB (limit %.0f)", $0, limit) } ?? "unknown"
        }
        let parts = idle.map { String(format: " (its own data %.1f MB, mapped from files %.1f MB)", $0.anonymous, $0.file) } ?? ""
        return "  \(program) resident memory: idle \(text(idle?.resident, limit: idleLimit))\(parts), peak \(text(peak, limit: busyLimit))"
    }

    static func megabytes(_ field: String, of pid: pid_t) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("\(field):") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
        }
        return nil
    }
}
