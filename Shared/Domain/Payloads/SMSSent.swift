/// `practice.sms.sent`: the practice software sent an ad-hoc SMS.
public struct SMSSent: EventPayload, Hashable {
    /// The location that sent it.
    public let locationID: String?
    /// The staff member who sent it.
    public let authorStaffID: String?
    /// The client it was sent to; when absent the number is matched to clients.
    public let clientID: String?
    /// The patient it is about.
    public let patientID: String?
    /// The phone number it was sent to; required, non-empty.
    public let to: String
    /// The message text, kept in full.
    public let text: String

    /// Creates an SMS payload.
    public init(
        locationID: String? = nil,
        authorStaffID: String? = nil,
        clientID: String? = nil,
        patientID: String? = nil,
        to: String,
        text: String
    ) {
        self.locationID = locationID
        self.authorStaffID = authorStaffID
        self.clientID = clientID
        self.patientID = patientID
        self.to = to
        self.text = text
    }

    /// The reason an ad-hoc SMS is logged with: AD_HOC_SMS.
    public var reason: ReasonCode { .adHocSMS }

    /// Ids are non-empty and so is `to`.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(locationID, "location_id")
        try Check.identifier(authorStaffID, "author_staff_id")
        try Check.identifier(clientID, "client_id")
        try Check.identifier(patientID, "patient_id")
        try Check.nonEmpty(to, "to")
    }

    /// Only `practice.sms.sent` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .smsSent }
}

extension SMSSent {
    enum CodingKeys: String, CodingKey {
        case locationID = "location_id"
        case authorStaffID = "author_staff_id"
        case clientID = "client_id"
        case patientID = "patient_id"
        case to
        case text
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            locationID: try container.decodeIfPresent(String.self, forKey: .locationID),
            authorStaffID: try container.decodeIfPresent(String.self, forKey: .authorStaffID),
            clientID: try container.decodeIfPresent(String.self, forKey: .clientID),
            patientID: try container.decodeIfPresent(String.self, forKey: .patientID),
            to: try container.decode(String.self, forKey: .to),
            text: try container.decode(String.self, forKey: .text)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(locationID, forKey: .locationID)
        try container.encode(authorStaffID, forKey: .authorStaffID)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(patientID, forKey: .patientID)
        try container.encode(to, forKey: .to)
        try container.encode(text, forKey: .text)
    }
}
