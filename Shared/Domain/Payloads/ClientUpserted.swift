/// `practice.directory.client.upserted`: a client, with the addresses and numbers communications are matched by.
public struct ClientUpserted: EventPayload, Hashable {
    /// The practice software's id of the client.
    public let clientID: String
    /// The client's name.
    public let name: String
    /// Their email addresses.
    public let emails: [String]
    /// Their phone numbers.
    public let phones: [String]
    /// The staff assigned to them (care team), who may see their log.
    public let relatedStaffIDs: [String]

    /// Creates a client entry.
    public init(
        clientID: String,
        name: String,
        emails: [String] = [],
        phones: [String] = [],
        relatedStaffIDs: [String] = []
    ) {
        self.clientID = clientID
        self.name = name
        self.emails = emails
        self.phones = phones
        self.relatedStaffIDs = relatedStaffIDs
    }

    /// Ids are non-empty, emails contain "@", phone numbers are non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(clientID, "client_id")
        try Check.emailAddresses(emails, "emails")
        try Check.nonEmpty(phones, "phones")
        try Check.identifiers(relatedStaffIDs, "related_staff_ids")
    }

    /// Only `practice.directory.client.upserted` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .clientUpserted }
}

extension ClientUpserted {
    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
        case name
        case emails
        case phones
        case relatedStaffIDs = "related_staff_ids"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            clientID: try container.decode(String.self, forKey: .clientID),
            name: try container.decode(String.self, forKey: .name),
            emails: try container.decodeList(of: String.self, forKey: .emails),
            phones: try container.decodeList(of: String.self, forKey: .phones),
            relatedStaffIDs: try container.decodeList(of: String.self, forKey: .relatedStaffIDs)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(name, forKey: .name)
        try container.encode(emails, forKey: .emails)
        try container.encode(phones, forKey: .phones)
        try container.encode(relatedStaffIDs, forKey: .relatedStaffIDs)
    }
}
