import Foundation

/// An event read from `commlog.events`: one case per payload, each with its typed envelope.
///
/// `mail.message.fetched` has no case: its body is a raw RFC 5322 message, not a JSON envelope.
public enum InboundEvent: Sendable, Hashable {
    /// `practice.reminder.sent`.
    case reminderSent(EventEnvelope<ReminderSent>)
    /// `practice.email.sent`.
    case emailSent(EventEnvelope<EmailSent>)
    /// `practice.sms.sent`.
    case smsSent(EventEnvelope<SMSSent>)
    /// `practice.sms.received`.
    case smsReceived(EventEnvelope<SMSReceived>)
    /// `practice.statement.sent`.
    case statementSent(EventEnvelope<StatementSent>)
    /// `practice.directory.organisation.upserted`.
    case organisationUpserted(EventEnvelope<OrganisationUpserted>)
    /// `practice.directory.location.upserted`.
    case locationUpserted(EventEnvelope<LocationUpserted>)
    /// `practice.directory.staff.upserted`.
    case staffUpserted(EventEnvelope<StaffUpserted>)
    /// `practice.directory.client.upserted`.
    case clientUpserted(EventEnvelope<ClientUpserted>)
    /// `practice.directory.patient.upserted`.
    case patientUpserted(EventEnvelope<PatientUpserted>)
    /// `practice.directory.connection.upserted`.
    case connectionUpserted(EventEnvelope<ConnectionUpserted>)
    /// `practice.directory.<entity>.deleted`, the entity being `data.entity`.
    case directoryDeleted(EventEnvelope<DirectoryDeleted>)
    /// `phone.call.event`.
    case phoneCallEvent(EventEnvelope<PhoneCallEvent>)
    /// `communication.logged`.
    case communicationLogged(EventEnvelope<CommunicationChanged>)
    /// `communication.updated`.
    case communicationUpdated(EventEnvelope<CommunicationChanged>)

    /// The envelope's `id`: the idempotency key.
    public var id: String { envelope.id }

    /// The event type (the routing key).
    public var type: EventType { envelope.type }

    /// The organisation (tenant) the event belongs to.
    public var organisationID: String { envelope.organisationID }

    /// When it happened at the source.
    public var occurredAt: Date { envelope.occurredAt }

    /// The contract JSON of the event, as `EventEnvelope.encoded()` writes it.
    public func encoded() throws -> [UInt8] {
        try envelope.encoded()
    }

    private var envelope: any AnyEventEnvelope {
        switch self {
        case .reminderSent(let envelope): envelope
        case .emailSent(let envelope): envelope
        case .smsSent(let envelope): envelope
        case .smsReceived(let envelope): envelope
        case .statementSent(let envelope): envelope
        case .organisationUpserted(let envelope): envelope
        case .locationUpserted(let envelope): envelope
        case .staffUpserted(let envelope): envelope
        case .clientUpserted(let envelope): envelope
        case .patientUpserted(let envelope): envelope
        case .connectionUpserted(let envelope): envelope
        case .directoryDeleted(let envelope): envelope
        case .phoneCallEvent(let envelope): envelope
        case .communicationLogged(let envelope): envelope
        case .communicationUpdated(let envelope): envelope
        }
    }
}

/// What every envelope has, whatever its payload.
protocol AnyEventEnvelope {
    var id: String { get }
    var type: EventType { get }
    var organisationID: String { get }
    var occurredAt: Date { get }
    func encoded() throws -> [UInt8]
}

extension EventEnvelope: AnyEventEnvelope where Payload: EventPayload {}
