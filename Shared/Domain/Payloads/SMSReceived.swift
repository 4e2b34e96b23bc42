/// `practice.sms.received`: a client's SMS to the practice, as its SMS gateway reported it to the practice software.
public struct SMSReceived: EventPayload, Hashable {
    /// The location whose number received it.
    public let locationID: String?
    /// The client who sent it; when null the sender's number is matched to clients and connections.
    public let clientID: String?
    /// The patient it is about.
    public let patientID: String?
    /// The number it came from; required, non-empty.
    public let from: String
    /// The practice's number it was sent to.
    public let to: String?
    /// The message text, kept in full.
    public let text: String

    /// Creates a received-SMS payload.
    public init(locationID: String? = nil, clientID: String? = nil, patientID: String? = nil, from: String, to: String? = nil, text: String) {
        self.locationID = locationID
        self.clientID = clientID
        self.patientID = patientID
        self.from = from
        self.to = to
        self.text = text
    }

    /// Ids are non-empty and so is `from`.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(locationID, "location_id")
        try Check.identifier(clientID, "client_id")
        try Check.identifier(patientID, "patient_id")
        try Check.nonEmpty(from, "from")
    }

    /// Only `practice.sms.received` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .smsReceived }
}

extension SMSReceived {
    enum CodingKeys: String, CodingKey {
        case locationID = "location_id"
        case clientID = "client_id"
        case patientID = "patient_id"
        case from, to, text
    }

    /// Decodes the contract JSON: optional fields may be null or absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            locationID: try container.decodeIfPresent(String.self, forKey: .locationID),
            clientID: try container.decodeIfPresent(String.self, forKey: .clientID),
            patientID: try container.decodeIfPresent(String.self, forKey: .patientID),
            from: try container.decode(String.self, forKey: .from),
            to: try container.decodeIfPresent(String.self, forKey: .to),
            text: try container.decode(String.self, forKey: .text)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(locationID, forKey: .locationID)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(patientID, forKey: .patientID)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(text, forKey: .text)
    }
}
