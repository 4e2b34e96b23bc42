/// `practice.reminder.sent`: a reminder went out (or was listed to phone or export).
public struct ReminderSent: EventPayload, Hashable {
    /// The location that sent it.
    public let locationID: String?
    /// The staff member who sent it, if a person did.
    public let authorStaffID: String?
    /// The client reminded; required.
    public let clientID: String
    /// The patient the reminder is about.
    public let patientID: String?
    /// How it went out; required.
    public let channel: ReminderChannel
    /// The email address, phone number or postal address used.
    public let address: String?
    /// Patient or appointment reminder; required.
    public let kind: ReminderKind
    /// The practice's reminder type, e.g. "Vaccination".
    public let reminderType: String?
    /// How many times this reminder has been sent (zero or more).
    public let reminderCount: Int?
    /// The template used.
    public let template: String?
    /// The subject line.
    public let subject: String?
    /// The full text sent, of any length.
    public let content: String?

    /// Creates a reminder payload.
    public init(
        locationID: String? = nil,
        authorStaffID: String? = nil,
        clientID: String,
        patientID: String? = nil,
        channel: ReminderChannel,
        address: String? = nil,
        kind: ReminderKind,
        reminderType: String? = nil,
        reminderCount: Int? = nil,
        template: String? = nil,
        subject: String? = nil,
        content: String? = nil
    ) {
        self.locationID = locationID
        self.authorStaffID = authorStaffID
        self.clientID = clientID
        self.patientID = patientID
        self.channel = channel
        self.address = address
        self.kind = kind
        self.reminderType = reminderType
        self.reminderCount = reminderCount
        self.template = template
        self.subject = subject
        self.content = content
    }

    /// Whether this reminder is logged at all (phone and export are not).
    public var isLogged: Bool { channel.isLogged }

    /// The reason it is logged with: PATIENT_REMINDER or APPOINTMENT_REMINDER.
    public var reason: ReasonCode { kind.reason }

    /// Ids are non-empty, `reminder_count` is zero or more, an emailed reminder's address contains "@".
    public func validate() throws(EventDecodingError) {
        try Check.identifier(locationID, "location_id")
        try Check.identifier(authorStaffID, "author_staff_id")
        try Check.identifier(clientID, "client_id")
        try Check.identifier(patientID, "patient_id")
        try Check.nonNegative(reminderCount, "reminder_count")
        if channel == .email { try Check.emailAddress(address, "address") }
    }

    /// Only `practice.reminder.sent` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .reminderSent }
}

extension ReminderSent {
    enum CodingKeys: String, CodingKey {
        case locationID = "location_id"
        case authorStaffID = "author_staff_id"
        case clientID = "client_id"
        case patientID = "patient_id"
        case channel
        case address
        case kind
        case reminderType = "reminder_type"
        case reminderCount = "reminder_count"
        case template
        case subject
        case content
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            locationID: try container.decodeIfPresent(String.self, forKey: .locationID),
            authorStaffID: try container.decodeIfPresent(String.self, forKey: .authorStaffID),
            clientID: try container.decode(String.self, forKey: .clientID),
            patientID: try container.decodeIfPresent(String.self, forKey: .patientID),
            channel: try container.decode(ReminderChannel.self, forKey: .channel),
            address: try container.decodeIfPresent(String.self, forKey: .address),
            kind: try container.decode(ReminderKind.self, forKey: .kind),
            reminderType: try container.decodeIfPresent(String.self, forKey: .reminderType),
            reminderCount: try container.decodeIntegerIfPresent(forKey: .reminderCount),
            template: try container.decodeIfPresent(String.self, forKey: .template),
            subject: try container.decodeIfPresent(String.self, forKey: .subject),
            content: try container.decodeIfPresent(String.self, forKey: .content)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(locationID, forKey: .locationID)
        try container.encode(authorStaffID, forKey: .authorStaffID)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(patientID, forKey: .patientID)
        try container.encode(channel, forKey: .channel)
        try container.encode(address, forKey: .address)
        try container.encode(kind, forKey: .kind)
        try container.encode(reminderType, forKey: .reminderType)
        try container.encode(reminderCount, forKey: .reminderCount)
        try container.encode(template, forKey: .template)
        try container.encode(subject, forKey: .subject)
        try container.encode(content, forKey: .content)
    }
}
