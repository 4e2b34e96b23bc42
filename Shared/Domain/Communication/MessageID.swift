/// An email's Message-ID as Commlog compares it: the `msg-id` of RFC 5322 without its angle brackets and the
/// space around it (`<a1b2@mail.example>` and `a1b2@mail.example` are the same message). Entries that share one
/// are one message, whichever source logged it first (the practice software's event, a mailbox's folder).
public enum MessageID {
    /// The longest a Message-ID may be (RFC 5322's line limit).
    public static let maximumLength = 998

    /// `raw` as compared, or nil when it holds nothing.
    public static func normalised(_ raw: String?) -> String? {
        guard var text = raw.map(trimmed) else { return nil }
        if text.count >= 2, text.hasPrefix("<"), text.hasSuffix(">") { text = trimmed(String(text.dropFirst().dropLast())) }
        return text.isEmpty ? nil : text
    }

    /// Why `raw` is not a Message-ID Commlog can compare, or nil when it is one.
    public static func problem(_ raw: String) -> String? {
        guard let id = normalised(raw) else { return "must not be empty" }
        if id.utf8.count > maximumLength { return "must be at most \(maximumLength) bytes (got \(id.utf8.count))" }
        if id.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0 == "<" || $0 == ">" }) {
            return "must be one msg-id (no spaces, control characters or further angle brackets)"
        }
        return nil
    }

    private static func trimmed(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
