import CommlogDomain

/// A `Range` header of one byte range, as media players send it (RFC 9110, section 14).
enum ByteRange: Equatable {
    /// No usable range (absent, several, another unit, malformed): the whole content, `200`.
    case whole
    /// These bytes (first and last included), `206`.
    case part(ClosedRange<Int>)
    /// The range begins beyond the end, `416`.
    case unsatisfiable

    /// Reads `header` for content of `size` bytes.
    init(_ header: String?, size: Int) {
        guard let header, header.utf8.count <= 100 else { self = .whole; return }
        let text = header.trimmingWhitespace()
        guard text.lowercased().hasPrefix("bytes=") else { self = .whole; return }
        let spec = text.dropFirst(6)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        func number(_ digits: Substring) -> Int? {
            !digits.isEmpty && digits.count <= 18 && digits.allSatisfy { $0.isASCII && $0.isNumber } ? Int(digits) : nil
        }
        if first.isEmpty {
            // The last N bytes.
            guard let suffix = number(last) else { self = .whole; return }
            guard suffix > 0, size > 0 else { self = .unsatisfiable; return }
            self = .part(max(0, size - suffix)...(size - 1))
            return
        }
        guard let start = number(first) else { self = .whole; return }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = number(last), value >= start else { self = .whole; return }
            end = min(value, size - 1)
        }
        guard start < size else { self = .unsatisfiable; return }
        self = .part(start...end)
    }
}
