/// `practice.directory.staff.upserted`: an employee, matched by email address, extension and phone numbers.
public struct StaffUpserted: EventPayload, Hashable {
    /// The practice software's id of the staff member.
    public let staffID: String
    /// Their name.
    public let name: String
    /// Their email address.
    public let email: String?
    /// Their roles; none means plain staff.
    public let roles: [StaffRole]
    /// Their phone extension, matched to calls.
    public let phoneExtension: String?
    /// Their phone numbers.
    public let phones: [String]

    /// Creates a staff entry.
    public init(
        staffID: String,
        name: String,
        email: String? = nil,
        roles: [StaffRole] = [],
        phoneExtension: String? = nil,
        phones: [String] = []
    ) {
        self.staffID = staffID
        self.name = name
        self.email = email
        self.roles = roles
        self.phoneExtension = phoneExtension
        self.phones = phones
    }

    /// The staff id is non-empty, an email contains "@", phone numbers are non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(staffID, "staff_id")
        try Check.emailAddress(email, "email")
        try Check.nonEmpty(phones, "phones")
    }

    /// Only `practice.directory.staff.upserted` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .staffUpserted }
}

extension StaffUpserted {
    enum CodingKeys: String, CodingKey {
        case staffID = "staff_id"
        case name
        case email
        case roles
        case phoneExtension = "extension"
        case phones
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            staffID: try container.decode(String.self, forKey: .staffID),
            name: try container.decode(String.self, forKey: .name),
            email: try container.decodeIfPresent(String.self, forKey: .email),
            roles: try container.decodeList(of: StaffRole.self, forKey: .roles),
            phoneExtension: try container.decodeIfPresent(String.self, forKey: .phoneExtension),
            phones: try container.decodeList(of: String.self, forKey: .phones)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(staffID, forKey: .staffID)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(roles, forKey: .roles)
        try container.encode(phoneExtension, forKey: .phoneExtension)
        try container.encode(phones, forKey: .phones)
    }
}
