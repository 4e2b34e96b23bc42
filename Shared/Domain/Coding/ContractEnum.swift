/// A string enum of the contract: decoding an unknown value names the values that are allowed.
public protocol ContractEnum: RawRepresentable, CaseIterable, Codable, Hashable, Sendable
where RawValue == String {}

extension ContractEnum {
    /// Decodes the raw value; an unknown one fails with `must be one of … (got "…")`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let rawValue = try container.decode(String.self)
        guard let value = Self(rawValue: rawValue) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "must be one of \(Self.allowedValues) (got \(EventDecodingError.quoted(rawValue)))"
            )
        }
        self = value
    }

    /// Encodes the raw value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The raw values, comma-separated, as error messages list them.
    public static var allowedValues: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}
