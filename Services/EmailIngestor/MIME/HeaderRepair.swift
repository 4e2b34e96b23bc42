/// Puts back the blank line that ends a header section when a sender left it out.
///
/// Mail clients show such messages: the first line that is neither a header field nor the continuation of
/// one starts the body. GMime instead reads on for headers and leaves the body empty. The same holds for the
/// headers of a MIME part that run straight into its text. A message with no header section at all (only a
/// body) gets an empty one.
enum HeaderRepair {
    /// `raw` with a blank line inserted before each such line; `raw` itself when nothing needs it.
    static func repair(_ raw: [UInt8]) -> [UInt8] {
        let lines = split(raw)
        // Declared in header sections (a Content-Type or its continuation), before the delimiters that use them:
        // bodies, attachments included, are never searched.
        var boundaries = Set<[UInt8]>()
        var output: [UInt8] = []
        output.reserveCapacity(raw.count + 16)
        var inHeaders = true
        var first = true
        var changed = false
        // Only the message's own first line may be an mbox separator, not a part's.
        var atMessageStart = true
        for line in lines {
            let content = trimmingLineEnd(line)
            if inHeaders, let declared = boundary(content) { boundaries.insert(declared) }
            if inHeaders {
                if content.isEmpty {
                    inHeaders = false
                } else if !(isFieldLine(content) || (!first && (content.first == 0x20 || content.first == 0x09)) || (atMessageStart && isMboxSeparator(content))) {
                    output += lineEnd(of: line)
                    inHeaders = false
                    changed = true
                }
                first = false
                atMessageStart = false
                output += line
                if inHeaders == false, !content.isEmpty, isDelimiter(content, boundaries) { (inHeaders, first) = (true, true) }
                continue
            }
            output += line
            if isDelimiter(content, boundaries), !isClosing(content, boundaries) { (inHeaders, first) = (true, true) }
        }
        return changed ? output : raw
    }

    /// Lines with their line ends.
    private static func split(_ raw: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = raw.startIndex
        for index in raw.indices where raw[index] == 0x0A {
            lines.append(raw[start...index])
            start = index + 1
        }
        if start < raw.endIndex { lines.append(raw[start...]) }
        return lines
    }

    private static func trimmingLineEnd(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
        return line
    }

    /// The line end a line uses, for the blank line inserted before it.
    private static func lineEnd(of line: ArraySlice<UInt8>) -> [UInt8] {
        line.count >= 2 && line[line.endIndex - 2] == 0x0D ? [0x0D, 0x0A] : [0x0A]
    }

    /// `name:` with a field name of printable ASCII other than the colon (RFC 5322 ftext), blanks allowed before
    /// the colon (obsolete syntax).
    private static func isFieldLine(_ line: ArraySlice<UInt8>) -> Bool {
        var sawName = false
        var index = line.startIndex
        while index < line.endIndex, line[index] >= 33, line[index] <= 126, line[index] != 0x3A {
            sawName = true
            index += 1
        }
        while index < line.endIndex, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        return sawName && index < line.endIndex && line[index] == 0x3A
    }

    /// `From sender date`, the line an mbox file puts before each message (some servers keep it).
    private static func isMboxSeparator(_ line: ArraySlice<UInt8>) -> Bool {
        line.starts(with: Array("From ".utf8))
    }

    /// The `boundary=` parameter a header line declares, if any.
    private static func boundary(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        let text = Array(line)
        let lower = text.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let key = Array("boundary=".utf8)
        guard let start = lower.indices.first(where: { lower[$0...].starts(with: key) }) else { return nil }
        var value = text[(start + key.count)...]
        if value.first == 0x22 {
            value = value.dropFirst()
            guard let end = value.firstIndex(of: 0x22) else { return nil }
            value = value[..<end]
        } else if let end = value.firstIndex(where: { $0 == 0x3B || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) {
            value = value[..<end]
        }
        return value.isEmpty ? nil : Array(value)
    }

    private static func isDelimiter(_ line: ArraySlice<UInt8>, _ boundaries: Set<[UInt8]>) -> Bool {
        guard line.starts(with: [0x2D, 0x2D]) else { return false }
        var rest = Array(line.dropFirst(2))
        while let last = rest.last, last == 0x20 || last == 0x09 { rest.removeLast() }
        if boundaries.contains(rest) { return true }
        return rest.count > 2 && rest.suffix(2) == [0x2D, 0x2D] && boundaries.contains(Array(rest.dropLast(2)))
    }

    private static func isClosing(_ line: ArraySlice<UInt8>, _ boundaries: Set<[UInt8]>) -> Bool {
        var rest = Array(line.dropFirst(2))
        while let last = rest.last, last == 0x20 || last == 0x09 { rest.removeLast() }
        return !boundaries.contains(rest)
    }
}
