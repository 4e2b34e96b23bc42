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
