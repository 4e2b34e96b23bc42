extension KeyedDecodingContainer {
    /// An array that may be absent or null, both meaning empty.
    func decodeList<Element: Decodable>(of _: Element.Type, forKey key: Key) throws -> [Element] {
        try decodeIfPresent([Element].self, forKey: key) ?? []
    }

    /// An integer; a fraction or an out-of-range number is reported at the field.
    func decodeInteger(forKey key: Key) throws -> Int {
        do {
            return try decode(Int.self, forKey: key)
        } catch {
            switch error as? DecodingError {
            case .typeMismatch, .valueNotFound, .keyNotFound: throw error
            default: break
            }
            // Foundation throws an internal error here (JSONError.numberIsNotRepresentableInSwift) that
            // its decoder would report as "not valid JSON" for the whole body; say what is wrong, and where.
            let found = (try? decode(Double.self, forKey: key)).map { "\($0)" } ?? "a number out of range"
            throw DecodingError.typeMismatch(
                Int.self,
                DecodingError.Context(
                    codingPath: codingPath + [key],
                    debugDescription: "Expected to decode Int but found \(found) instead."
                )
            )
        }
    }

    /// An integer that may be absent or null.
    func decodeIntegerIfPresent(forKey key: Key) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeInteger(forKey: key)
    }
}
