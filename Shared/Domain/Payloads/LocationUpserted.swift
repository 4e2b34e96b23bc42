/// `practice.directory.location.upserted`: a practice location, which carries the "logging enabled" switch.
public struct LocationUpserted: EventPayload, Hashable {
    /// The practice software's id of the location.
    public let locationID: String
    /// The location's name.
    public let name: String
    /// Whether practice events of this location are logged; `nil` follows the organisation.
    public let loggingEnabled: Bool?

    /// Creates a location entry.
    public init(locationID: String, name: String, loggingEnabled: Bool? = nil) {
        self.locationID = locationID
        self.name = name
        self.loggingEnabled = loggingEnabled
    }

    /// Whether practice events of this location are logged, given the organisation's switch.
    public func isLoggingEnabled(organisationDefault: Bool) -> Bool {
        loggingEnabled ?? organisationDefault
    }

    /// The location id is non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(locationID, "location_id")
    }

    /// Only `practice.directory.location.upserted` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .locationUpserted }
}

extension LocationUpserted {
    enum CodingKeys: String, CodingKey {
        case locationID = "location_id"
        case name
        case loggingEnabled = "logging_enabled"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            locationID: try container.decode(String.self, forKey: .locationID),
            name: try container.decode(String.self, forKey: .name),
            loggingEnabled: try container.decodeIfPresent(Bool.self, forKey: .loggingEnabled)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(locationID, forKey: .locationID)
        try container.encode(name, forKey: .name)
        try container.encode(loggingEnabled, forKey: .loggingEnabled)
    }
}
