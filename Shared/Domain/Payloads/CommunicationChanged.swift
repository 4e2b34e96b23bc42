import Foundation

/// `communication.logged` and `communication.updated`: what Commlog publishes after a commit, for live views.
public struct CommunicationChanged: EventPayload, Hashable {
    /// Commlog's id of the communication.
    public let communicationID: UUID
    /// Its type.
    public let type: CommunicationType
    /// Its status after the change.
    public let status: CommunicationStatus
    /// Its client, if one was matched.
    public let clientID: String?
    /// The staff involved (author, participants, handlers, related staff): whose live views to update.
    public let staffIDs: [String]

    /// Creates a change notice.
    public init(
        communicationID: UUID,
        type: CommunicationType,
        status: CommunicationStatus,
        clientID: String? = nil,
        staffIDs: [String] = []
    ) {
        self.communicationID = communicationID
        self.type = type
        self.status = status
        self.clientID = clientID
        self.staffIDs = staffIDs
    }

    /// Ids are non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(clientID, "client_id")
        try Check.identifiers(staffIDs, "staff_ids")
    }

    /// `communication.logged` and `communication.updated` carry it.
    public func isCarried(by type: EventType) -> Bool {
        type == .communicationLogged || type == .communicationUpdated
    }
}

extension CommunicationChanged {
    enum CodingKeys: String, CodingKey {
        case communicationID = "communication_id"
        case type
        case status
        case clientID = "client_id"
        case staffIDs = "staff_ids"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rawID = try container.decode(String.self, forKey: .communicationID)
        guard let communicationID = UUID(uuidString: rawID) else {
            throw DecodingError.dataCorruptedError(
                forKey: .communicationID,
                in: container,
                debugDescription: "must be a UUID (got \(EventDecodingError.quoted(rawID)))"
            )
        }
        self.init(
            communicationID: communicationID,
            type: try container.decode(CommunicationType.self, forKey: .type),
            status: try container.decode(CommunicationStatus.self, forKey: .status),
            clientID: try container.decodeIfPresent(String.self, forKey: .clientID),
            staffIDs: try container.decodeList(of: String.self, forKey: .staffIDs)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // Lower case, as the rest of the contract writes UUIDs; Foundation's default is upper case.
        try container.encode(communicationID.uuidString.lowercased(), forKey: .communicationID)
        try container.encode(type, forKey: .type)
        try container.encode(status, forKey: .status)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(staffIDs, forKey: .staffIDs)
    }
}

extension CommunicationChanged: JSONWritable {
    /// As `encode(to:)` writes it: reminder-logger and email-ingestor announce every entry they log.
    public func write(to json: inout JSONWriter) {
        json.raw("{\"communication_id\":"); json.uuid(communicationID)
        json.raw(",\"type\":"); json.string(type)
        json.raw(",\"status\":"); json.string(status)
        json.raw(",\"client_id\":"); json.string(clientID)
        json.raw(",\"staff_ids\":"); json.array(staffIDs) { json, id in json.string(id) }
        json.raw("}")
    }
}
