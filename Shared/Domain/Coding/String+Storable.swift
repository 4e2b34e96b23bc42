import Foundation

extension String {
    /// The text as PostgreSQL can store it: a NUL (which `text` cannot hold) becomes U+FFFD. For what is kept
    /// whatever it holds (a dead letter, a message a mail client shows): refusing it would lose it.
    public var storable: String {
        contains("\u{0}") ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self
    }
}
