import Foundation

/// A communication as a writer inserts it; `(source, sourceRef)` makes the insert idempotent.
public struct NewCommunication: Codable, Hashable, Sendable {
    /// The organisation (tenant) it belongs to.
    public let organisationID: String
    /// Email, SMS, phone, mail or note.
    public let type: CommunicationType
    /// Inbound or outbound; `nil` for a note.
    public let direction: Direction?
    /// Open (a call not yet ended by staff) or closed.
    public let status: CommunicationStatus
    /// When it happened.
    public let occurredAt: Date
    /// When a call was answered.
    public let answeredAt: Date?
    /// When a call ended on the phone.
    public let endedAt: Date?
    /// When it was closed.
    public let closedAt: Date?
    /// The client; `nil` only when none could be matched.
    public let clientID: String?
    /// The patient it is about.
    public let patientID: String?
    /// The location it belongs to.
    public let locationID: String?
    /// The logged-in staff member who made it; `nil` for imports.
    public let authorStaffID: String?
    /// Why it happened.
    public let reason: ReasonCode?
    /// The email address, phone number or postal address used.
    public let address: String?
    /// The subject or title.
    public let subject: String?
    /// A short description.
    public let description: String?
    /// Staff notes (for a practice email: the attachment names).
    public let notes: String?
    /// The full content (email body, SMS text), of any length.
    public let content: String?
    /// Where it came from.
    public let source: CommunicationSource
    /// The idempotency key within `source`, e.g. the event id or the Message-ID.
    public let sourceRef: String
    /// The reminder template used.
    public let template: String?
    /// The reminder type.
    public let reminderType: String?
    /// How many times the reminder has been sent.
    public let reminderCount: Int?
    /// Whether it appears in the patient's medical record view.
    public let showInPatientHistory: Bool
    /// Its parties.
    public let participants: [Participant]
    /// Its attachments.
    public let attachments: [NewAttachment]
    /// An email's Message-ID (`MessageID.normalised`): the entry of any source that has it is this message.
    /// Cleared for another message that reuses an id already logged (`SameMessage`).
    public var messageID: String?

    /// Creates a communication to insert.
    public init(
        organisationID: String,
        type: CommunicationType,
        direction: Direction?,
        status: CommunicationStatus = .closed,
        occurredAt: Date,
        answeredAt: Date? = nil,
        endedAt: Date? = nil,
        closedAt: Date? = nil,
        clientID: String? = nil,
        patientID: String? = nil,
        locationID: String? = nil,
        authorStaffID: String? = nil,
        reason: ReasonCode? = nil,
        address: String? = nil,
        subject: String? = nil,
        description: String? = nil,
        notes: String? = nil,
        content: String? = nil,
        source: CommunicationSource,
        sourceRef: String,
        template: String? = nil,
        reminderType: String? = nil,
        reminderCount: Int? = nil,
        showInPatientHistory: Bool = false,
        participants: [Participant] = [],
        attachments: [NewAttachment] = [],
        messageID: String? = nil
    ) {
        self.organisationID = organisationID
        self.type = type
        self.direction = direction
        self.status = status
        self.occurredAt = occurredAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.closedAt = closedAt
        self.clientID = clientID
        self.patientID = patientID
        self.locationID = locationID
        self.authorStaffID = authorStaffID
        self.reason = reason
        self.address = address
        self.subject = subject
        self.description = description
        self.notes = notes
        self.content = content
        self.source = source
        self.sourceRef = sourceRef
        self.template = template
        self.reminderType = reminderType
        self.reminderCount = reminderCount
        self.showInPatientHistory = showInPatientHistory
        self.participants = participants
        self.attachments = attachments
        self.messageID = messageID
    }
}
