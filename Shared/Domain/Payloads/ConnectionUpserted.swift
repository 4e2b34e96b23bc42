/// `practice.directory.connection.upserted`: a person related to a client (family member, carer).
public struct ConnectionUpserted: EventPayload, Hashable {
    /// The practice software's id of the connection.
    public let connectionID: String
    /// The client they are related to.
    public let clientID: String
    /// Their name.
    public let name: String
    /// How they are related, e.g. "daughter".
    public let relationship: String?
    /// Their email addresses.
    public let emails: [String]
    /// Their phone numbers.
    public let phones: [String]

    /// Creates a connection entry.
    public init(
        connectionID: String,
        clientID: String,
        name: String,
        relationship: String? = nil,
        emails: [String] = [],
        phones: [String] = []
    ) {
        self.connectionID = connectionID
        self.clientID = clientID
        self.name = name
        self.relationship = relationship
        self.emails = emails
        self.phones = phones
    }

    /// Ids are non-empty, emails contain "@", phone numbers are non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(connectionID, "connection_id")
        try Check.identifier(clientID, "client_id")
        try Check.emailAddresses(emails, "emails")
        try Check.nonEmpty(phones, "phones")
    }

    /// Only `practice.directory.connection.upserted` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .connectionUpserted }
}

extension ConnectionUpserted {
    enum CodingKeys: String, CodingKey {
        case connectionID = "connection_id"
        case clientID = "client_id"
        case name
        case relationship
        case emails
        case phones
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            connectionID: try container.decode(String.self, forKey: .connectionID),
            clientID: try container.decode(String.self, forKey: .clientID),
            name: try container.decode(String.self, forKey: .name),
            relationship: try container.decodeIfPresent(String.self, forKey: .relationship),
            emails: try container.decodeList(of: String.self, forKey: .emails),
            phones: try container.decodeList(of: String.self, forKey: .phones)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(connectionID, forKey: .connectionID)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(name, forKey: .name)
        try container.encode(relationship, forKey: .relationship)
        try container.encode(emails, forKey: .emails)
        try container.encode(phones, forKey: .phones)
    }
}
