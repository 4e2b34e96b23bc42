/// The type of an event, whose raw value is also its routing key on `commlog.events`.
public enum EventType: String, CaseIterable, Codable, Hashable, Sendable {
    /// A reminder was emailed, SMSed, printed, listed to phone or exported.
    case reminderSent = "practice.reminder.sent"
    /// The practice software sent an email.
    case emailSent = "practice.email.sent"
    /// The practice software sent an SMS.
    case smsSent = "practice.sms.sent"
    /// A client's SMS reached the practice.
    case smsReceived = "practice.sms.received"
    /// A statement was sent; accepted and never logged.
    case statementSent = "practice.statement.sent"
    /// The organisation's own directory entry changed.
    case organisationUpserted = "practice.directory.organisation.upserted"
    /// The organisation's directory entry was deleted.
    case organisationDeleted = "practice.directory.organisation.deleted"
    /// A location was created or changed.
    case locationUpserted = "practice.directory.location.upserted"
    /// A location was deleted.
    case locationDeleted = "practice.directory.location.deleted"
    /// A staff member was created or changed.
    case staffUpserted = "practice.directory.staff.upserted"
    /// A staff member was deleted.
    case staffDeleted = "practice.directory.staff.deleted"
    /// A client was created or changed.
    case clientUpserted = "practice.directory.client.upserted"
    /// A client was deleted.
    case clientDeleted = "practice.directory.client.deleted"
    /// A patient was created or changed.
    case patientUpserted = "practice.directory.patient.upserted"
    /// A patient was deleted.
    case patientDeleted = "practice.directory.patient.deleted"
    /// A connection (a person related to a client) was created or changed.
    case connectionUpserted = "practice.directory.connection.upserted"
    /// A connection was deleted.
    case connectionDeleted = "practice.directory.connection.deleted"
    /// The phone system reported a step of a call.
    case phoneCallEvent = "phone.call.event"
    /// A mailbox message was fetched; its body is raw RFC 5322, not a JSON envelope.
    case mailMessageFetched = "mail.message.fetched"
    /// Commlog logged a communication (published after commit, for live views).
    case communicationLogged = "communication.logged"
    /// Commlog updated a communication (published after commit, for live views).
    case communicationUpdated = "communication.updated"

    /// The routing key, which is the raw value.
    public var routingKey: String { rawValue }

    /// Whether messages of this type carry the JSON envelope (all but `mail.message.fetched`).
    public var hasJSONEnvelope: Bool { self != .mailMessageFetched }

    /// The directory entity an upsert or deletion is about; `nil` for other events.
    public var directoryEntity: DirectoryEntity? {
        switch self {
        case .organisationUpserted, .organisationDeleted: .organisation
        case .locationUpserted, .locationDeleted: .location
        case .staffUpserted, .staffDeleted: .staff
        case .clientUpserted, .clientDeleted: .client
        case .patientUpserted, .patientDeleted: .patient
        case .connectionUpserted, .connectionDeleted: .connection
        default: nil
        }
    }

    /// Whether this is one of the `practice.directory.<entity>.deleted` events.
    public var isDirectoryDeletion: Bool {
        switch self {
        case .organisationDeleted, .locationDeleted, .staffDeleted, .clientDeleted, .patientDeleted,
            .connectionDeleted:
            true
        default:
            false
        }
    }

    /// Decodes a known routing key; an unknown one fails with `unknown event type "…"`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let rawValue = try container.decode(String.self)
        guard let type = EventType(rawValue: rawValue) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "unknown event type \(EventDecodingError.quoted(rawValue))"
            )
        }
        self = type
    }

    /// Encodes the routing key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
