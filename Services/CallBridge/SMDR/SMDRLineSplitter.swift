/// Splits the bytes a PBX streams into lines, without keeping more than `maximumLine` bytes of any line.
///
/// A line longer than that is not an SMDR record: it is dropped whole, up to its newline (not cut into pieces
/// that could each look like a record). Each byte is looked at once, however the stream is chunked.
struct SMDRLineSplitter {
    /// Longest line kept.
    let maximumLine: Int
    private var pending: [UInt8] = []
    /// Inside a line that grew too long: bytes are dropped until its newline.
    private var discarding = false
    /// Lines dropped for their length.
    private(set) var droppedLines = 0

    init(maximumLine: Int = 4096) {
        self.maximumLine = maximumLine
    }

    /// The complete lines in `bytes` (without their `\n`; a `\r` before it is the record parser's to trim).
    mutating func append(_ bytes: some Sequence<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if discarding {
                    discarding = false
                } else {
                    lines.append(String(decoding: pending, as: UTF8.self))
                }
                pending.removeAll(keepingCapacity: true)
            } else if !discarding {
                if pending.count == maximumLine {
                    discarding = true
                    droppedLines += 1
                    pending.removeAll(keepingCapacity: true)
                } else {
                    pending.append(byte)
                }
            }
        }
        return lines
    }

    /// What is left when the stream ends: the last line, if it was not too long.
    mutating func finish() -> String? {
        defer { pending.removeAll() }
        return discarding || pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}
