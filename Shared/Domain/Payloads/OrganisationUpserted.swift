/// `practice.directory.organisation.upserted`: the organisation's own entry (its id is the envelope's).
public struct OrganisationUpserted: EventPayload, Hashable {
    /// The organisation's name.
    public let name: String
    /// Its IANA time zone, e.g. `Australia/Melbourne`.
    public let timezone: String?
    /// Whether practice events are logged, for locations that follow the organisation; `true` when absent.
    public let loggingEnabled: Bool

    /// Creates an organisation entry.
    public init(name: String, timezone: String? = nil, loggingEnabled: Bool = true) {
        self.name = name
        self.timezone = timezone
        self.loggingEnabled = loggingEnabled
    }

    /// A time zone, when given, is non-empty.
    public func validate() throws(EventDecodingError) {
        if let timezone { try Check.nonEmpty(timezone, "timezone") }
    }

    /// Only `practice.directory.organisation.upserted` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .organisationUpserted }
}

extension OrganisationUpserted {
    enum CodingKeys: String, CodingKey {
        case name
        case timezone
        case loggingEnabled = "logging_enabled"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            timezone: try container.decodeIfPresent(String.self, forKey: .timezone),
            loggingEnabled: try container.decodeIfPresent(Bool.self, forKey: .loggingEnabled) ?? true
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(loggingEnabled, forKey: .loggingEnabled)
    }
}
