/// The semantic rules JSON types cannot express, each throwing an error that names the field.
enum Check {
    /// The longest identifier the contract accepts (event ids, organisation ids, directory ids).
    static let maximumIdentifierLength = 200

    /// A string with at least one non-whitespace character.
    static func nonEmpty(_ value: String, _ field: String) throws(EventDecodingError) {
        guard value.utf8.contains(where: { !isWhitespace($0) }) else {
            throw .invalid(field, "must not be empty")
        }
    }

    /// A non-empty identifier of at most 200 characters.
    static func identifier(_ value: String, _ field: String) throws(EventDecodingError) {
        try nonEmpty(value, field)
        // Counting UTF-8 bytes first spares counting characters for every ordinary id.
        if value.utf8.count > maximumIdentifierLength, value.count > maximumIdentifierLength {
            throw .invalid(field, "must be at most \(maximumIdentifierLength) characters (got \(value.count))")
        }
    }

    /// An identifier when present.
    static func identifier(_ value: String?, _ field: String) throws(EventDecodingError) {
        if let value { try identifier(value, field) }
    }

    /// Identifiers in an array, each reported at its position.
    static func identifiers(_ values: [String], _ field: String) throws(EventDecodingError) {
        for (index, value) in values.enumerated() { try identifier(value, "\(field)[\(index)]") }
    }

    /// The largest number an `integer` column holds (seq, durations, counts).
    static let maximumInteger = Int(Int32.max)

    /// Zero up to `maximumInteger`, when present.
    static func storable(_ value: Int?, _ field: String) throws(EventDecodingError) {
        try nonNegative(value, field)
        if let value, value > maximumInteger { throw .invalid(field, "must be at most \(maximumInteger) (got \(value))") }
    }

    /// At most `maximum` characters, when present (phone numbers, URLs: text that is stored and shown, not content).
    static func length(_ value: String?, _ field: String, atMost maximum: Int) throws(EventDecodingError) {
        if let value, value.utf8.count > maximum, value.count > maximum {
            throw .invalid(field, "must be at most \(maximum) characters (got \(value.count))")
        }
    }

    /// Whether a JSON text holds a NUL character (`\u0000`): PostgreSQL's text cannot store one, so such a
    /// body is refused as a whole. A backslash that is itself escaped (`\\u0000`) is text, not an escape.
    static func containsEscapedNUL(_ json: some Collection<UInt8>) -> Bool {
        var backslashes = 0
        var index = json.startIndex
        while index != json.endIndex {
            let byte = json[index]
            if byte == UInt8(ascii: "\\") {
                backslashes += 1
            } else {
                if byte == UInt8(ascii: "u"), backslashes % 2 == 1 {
                    let digits = json[json.index(after: index)...].prefix(4)
                    if digits.count == 4, digits.allSatisfy({ $0 == UInt8(ascii: "0") }) { return true }
                } else if byte == 0 {
                    return true
                }
                backslashes = 0
            }
            index = json.index(after: index)
        }
        return false
    }

    /// Zero or more, when present.
    static func nonNegative(_ value: Int?, _ field: String) throws(EventDecodingError) {
        if let value, value < 0 { throw .invalid(field, "must be zero or more (got \(value))") }
    }

    /// Something that looks like an email address: it contains an "@".
    static func emailAddress(_ value: String, _ field: String) throws(EventDecodingError) {
        guard value.utf8.contains(UInt8(ascii: "@")) else {
            throw .invalid(field, "must be an email address (got \(EventDecodingError.quoted(value)))")
        }
    }

    /// An email address when present.
    static func emailAddress(_ value: String?, _ field: String) throws(EventDecodingError) {
        if let value { try emailAddress(value, field) }
    }

    /// Email addresses in an array, each reported at its position.
    static func emailAddresses(_ values: [String], _ field: String) throws(EventDecodingError) {
        for (index, value) in values.enumerated() { try emailAddress(value, "\(field)[\(index)]") }
    }

    /// Non-empty strings in an array (phone numbers), each reported at its position.
    static func nonEmpty(_ values: [String], _ field: String) throws(EventDecodingError) {
        for (index, value) in values.enumerated() { try nonEmpty(value, "\(field)[\(index)]") }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
