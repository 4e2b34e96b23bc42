extension StringProtocol {
    /// The text without leading and trailing white space (Unicode's White_Space, line breaks included).
    ///
    /// Foundation's `trimmingCharacters(in: .whitespacesAndNewlines)` goes through NSString on Linux, a noticeable
    /// cost on paths that run for every event or request.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars[start...].lastIndex { !$0.properties.isWhitespace }.map(scalars.index(after:)) ?? start
        return String(String.UnicodeScalarView(scalars[start..<end]))
    }
}
