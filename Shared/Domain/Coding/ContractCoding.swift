import Foundation

/// JSON coders configured as the contract writes JSON: RFC 3339 dates, sorted keys, unescaped slashes.
///
/// Key names are never converted: every type spells its snake_case keys in its `CodingKeys`.
public enum ContractCoding {
    /// A decoder for contract JSON; dates accept fractional seconds and offsets.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let string = try container.decode(String.self)
            guard let date = RFC3339.date(from: string) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "expected an RFC 3339 date-time such as 2026-11-25T09:30:00Z (got \(EventDecodingError.quoted(string)))"
                )
            }
            return date
        }
        return decoder
    }

    /// An encoder for contract JSON; dates in UTC with fractional seconds.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }
}
