import Foundation
import CommlogDomain
import PhoneNumbers

/// What a directory look-up searches for, read from what was typed: the words of a name, and, when it can be
/// one, the start of an email address or of a phone number.
struct DirectoryQuery: Equatable {
    /// What was typed, trimmed and lower-cased: names that begin with it rank first.
    let text: String
    /// The lower-case words every one of which must begin a word of the name, as `commlog_name_terms` splits
    /// names in the database (runs of letters and digits).
    let words: [String]
    /// The start of an email address (lower-cased, as `contact_points` keeps them), when `q` has no spaces.
    let emailPrefix: String?
    /// Starts of phone numbers as `contact_points` keeps them (E.164, or digits where no region read them).
    let phonePrefixes: [String]
    /// The start of a staff extension.
    let extensionPrefix: String?

    /// The least that is looked up as an address: fewer characters match too much to mean anything.
    static let minimumAddressLength = 3

    init(_ typed: String, region: String?) {
        let text = typed.trimmingWhitespace()
        self.text = text.lowercased()
        var words: [String] = []
        for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) where !words.contains(String(word)) {
            words.append(String(word.prefix(100)))
        }
        self.words = words
        let noSpaces = !text.contains(where: \.isWhitespace)
        emailPrefix = noSpaces && !words.isEmpty && text.count >= Self.minimumAddressLength ? text.lowercased() : nil
        (phonePrefixes, extensionPrefix) = Self.phonePrefixes(text, region: region)
    }

    /// Several words as a name's phrase is kept in `directory_words`: a space, then the words joined by spaces.
    var phrase: String? { words.count > 1 ? " " + words.joined(separator: " ") : nil }

    /// The longest word (the narrowest index range), the first of equals.
    var leadWord: String? { words.max { $0.count < $1.count || ($0.count == $1.count && $0 > $1) } }

    /// The `contact_points` kinds and value prefixes to look in.
    var addressRanges: [(kind: String, start: String)] {
        var ranges: [(kind: String, start: String)] = []
        if let emailPrefix { ranges.append(("email", emailPrefix)) }
        ranges += phonePrefixes.map { ("phone", $0) }
        if let extensionPrefix { ranges.append(("extension", extensionPrefix)) }
        return ranges
    }

    /// Whether anything can be looked up at all (not only spaces and punctuation).
    var isEmpty: Bool { words.isEmpty && emailPrefix == nil && phonePrefixes.isEmpty }

    /// A number written as people write them: digits with `+`, spaces, dashes, dots and brackets.
    private static func phonePrefixes(_ text: String, region: String?) -> ([String], String?) {
        let digits = PhoneNumber.digits(text)
        guard !digits.isEmpty, text.allSatisfy({ ($0.isASCII && $0.isNumber) || "+-. ()/".contains($0) }) else { return ([], nil) }
        let extensionPrefix = digits
        guard digits.count >= minimumAddressLength else { return ([], extensionPrefix) }
        // "+44 (0)20 …": the trunk prefix in brackets is not dialled after the country code.
        if text.hasPrefix("+") { return (["+" + PhoneNumber.digits(text.replacingOccurrences(of: "(0)", with: ""))], extensionPrefix) }
        if digits.hasPrefix("00") { return (["+" + digits.dropFirst(2)], extensionPrefix) }
        // Digits as typed: a number stored without a region (`+` kept only when it was written), or one
        // typed with its country code but no `+`.
        var prefixes = ["+" + digits, digits]
        if let region, let dialling = PhoneNumber.dialling(region: region) {
            if dialling.nationalPrefix.isEmpty {
                prefixes.append("+\(dialling.countryCode)" + digits)
            } else if digits.hasPrefix(dialling.nationalPrefix) {
                prefixes.append("+\(dialling.countryCode)" + digits.dropFirst(dialling.nationalPrefix.count))
            }
        }
        return (prefixes, extensionPrefix)
    }
}
