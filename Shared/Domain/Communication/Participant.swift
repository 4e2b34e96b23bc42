/// A party of a communication, matched to a staff member, client or connection, or left external.
public struct Participant: Codable, Hashable, Sendable {
    /// The part played: from, to, cc, bcc, caller, callee, handler or related.
    public let role: ParticipantRole
    /// Whom it was matched to.
    public let kind: ParticipantKind
    /// The matched staff, client or connection id; `nil` when unmatched (external).
    public let id: String?
    /// The email address or phone number as it appeared.
    public let address: String?
    /// The display name as it appeared, or the directory's name.
    public let name: String?

    /// Creates a participant.
    public init(role: ParticipantRole, kind: ParticipantKind, id: String? = nil, address: String? = nil, name: String? = nil) {
        self.role = role
        self.kind = kind
        self.id = id
        self.address = address
        self.name = name
    }

    /// An unmatched party known only by its address.
    public static func external(_ role: ParticipantRole, address: String, name: String? = nil) -> Participant {
        Participant(role: role, kind: .external, address: address, name: name)
    }

    enum CodingKeys: String, CodingKey {
        case role
        case kind
        case id
        case address
        case name
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            role: try container.decode(ParticipantRole.self, forKey: .role),
            kind: try container.decode(ParticipantKind.self, forKey: .kind),
            id: try container.decodeIfPresent(String.self, forKey: .id),
            address: try container.decodeIfPresent(String.self, forKey: .address),
            name: try container.decodeIfPresent(String.self, forKey: .name)
        )
    }

    /// Encodes absent values as `null`: the API promises `id` null when unmatched.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encode(kind, forKey: .kind)
        try container.encode(id, forKey: .id)
        try container.encode(address, forKey: .address)
        try container.encode(name, forKey: .name)
    }
}
