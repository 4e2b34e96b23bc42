import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How far an import is, on standard error: on a terminal a bar redrawn in place (rows, rate, time left, from the
/// share of the file's bytes read), otherwise a line every few seconds. Problems with rows go to standard error
/// too, each on a line of its own.
final class ImportProgress {
    private let size: Int
    private let verb: String
    private let terminal: Bool
    private let interval: Duration
    private let start = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private var barShown = false

    init(size: Int, verb: String, terminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.size = size
        self.verb = verb
        self.terminal = terminal
        interval = terminal ? .milliseconds(200) : .seconds(5)
    }

    var elapsed: Duration { ContinuousClock.now - start }

    /// Shows `rows` rows done with `bytes` of the file read, if it is time to.
    func update(rows: Int, bytes: Int) {
        let now = ContinuousClock.now
        guard now - lastShown >= interval else { return }
        lastShown = now
        let seconds = max((now - start).seconds, 0.001)
        let fraction = size > 0 ? min(Double(bytes) / Double(size), 1) : 0
        let rate = Double(rows) / seconds
        let left = fraction > 0.001 ? seconds * (1 - fraction) / fraction : nil
        let leftText = left.map { "\(Self.clock($0)) left" } ?? "time left unknown"
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            write("\r[\(bar)] \(Int(fraction * 100))%  \(Self.grouped(rows)) rows  \(Self.grouped(Int(rate))) rows/s  \(leftText)\u{1B}[K")
            barShown = true
        } else {
            write("\(verb) \(Self.grouped(rows)) rows (\(Int(fraction * 100))% of the file), \(Self.grouped(Int(rate))) rows/s, \(leftText)\n")
        }
    }

    /// Writes a line of its own (a row's problem) under the bar.
    func report(_ line: String) {
        clearBar()
        write(line + "\n")
    }

    /// Takes the bar away before the summary.
    func finish() {
        clearBar()
    }

    private func clearBar() {
        guard barShown else { return }
        write("\r\u{1B}[K")
        barShown = false
        lastShown = .now - interval
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// 1234567 as 1,234,567.
    static func grouped(_ value: Int) -> String {
        value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
    }

    /// Seconds as m:ss (or h:mm:ss).
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
