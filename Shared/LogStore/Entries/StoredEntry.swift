import CommlogDomain
import Foundation
import PostgresNIO

/// An entry of the log as stored, typed with the Domain's enums: what query-api lists and shows, what a phone
/// system's call is compared with, and what tests read back. One declaration of the row, read through
/// `StoredEntry.columns` wherever the log is read.
public struct StoredEntry: Sendable, Hashable {
    public var id: UUID
    public var type: CommunicationType
    public var direction: Direction?
    public var status: CommunicationStatus
    /// When it happened (the receipt, when the sender claimed a later time).
    public var occurredAt: Date
    /// The time the sender gave, when it was later than Commlog received the entry.
    public var claimedAt: Date?
    public var answeredAt: Date?
    public var endedAt: Date?
    public var closedAt: Date?
    public var outcome: CallOutcome?
    public var durationSeconds: Int?
    public var clientID: String?
    public var patientID: String?
    public var locationID: String?
    public var authorStaffID: String?
    public var reason: String?
    public var address: String?
    public var subject: String?
    public var description: String?
    public var notes: String?
    public var source: CommunicationSource
    /// The writer's key of the entry (the event's id, the mailbox message, the phone system's call).
    public var sourceRef: String?
    public var template: String?
    public var reminderType: String?
    public var reminderCount: Int?
    /// A call whose number matched more than one client.
    public var ambiguous: Bool
    public var showInPatientHistory: Bool
    public var printInPatientHistory: Bool
    /// Bumped on every change; the entry's ETag.
    public var version: Int
    public var participants: [Participant] = []
    /// The content, for readers that ask for it (`EntryReader`): lists never carry it.
    public var content: String?
    /// The attachments, for readers that ask for them (`EntryReader`).
    public var attachments: [StoredAttachment] = []

    public init(
        id: UUID, type: CommunicationType, direction: Direction? = nil, status: CommunicationStatus = .closed, occurredAt: Date,
        claimedAt: Date? = nil, answeredAt: Date? = nil, endedAt: Date? = nil, closedAt: Date? = nil, outcome: CallOutcome? = nil,
        durationSeconds: Int? = nil, clientID: String? = nil, patientID: String? = nil, locationID: String? = nil,
        authorStaffID: String? = nil, reason: String? = nil, address: String? = nil, subject: String? = nil, description: String? = nil,
        notes: String? = nil, source: CommunicationSource, sourceRef: String? = nil, template: String? = nil, reminderType: String? = nil,
        reminderCount: Int? = nil, ambiguous: Bool = false, showInPatientHistory: Bool = false, printInPatientHistory: Bool = false,
        version: Int = 1, participants: [Participant] = []
    ) {
        self.id = id
        self.type = type
        self.direction = direction
        self.status = status
        self.occurredAt = occurredAt
        self.claimedAt = claimedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.closedAt = closedAt
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.clientID = clientID
        self.patientID = patientID
        self.locationID = locationID
        self.authorStaffID = authorStaffID
        self.reason = reason
        self.address = address
        self.subject = subject
        self.description = description
        self.notes = notes
        self.source = source
        self.sourceRef = sourceRef
        self.template = template
        self.reminderType = reminderType
        self.reminderCount = reminderCount
        self.ambiguous = ambiguous
        self.showInPatientHistory = showInPatientHistory
        self.printInPatientHistory = printInPatientHistory
        self.version = version
        self.participants = participants
    }

    /// The columns of `communications c` the row is decoded from, in order, each with its type for
    /// `commlog_read` (`TenantRead`).
    public static let columns: [(select: String, definition: String)] = [
        ("c.id", "id uuid"), ("c.type", "type text"), ("c.direction", "direction text"), ("c.status", "status text"),
        ("c.occurred_at", "occurred_at timestamptz"), ("c.claimed_at", "claimed_at timestamptz"), ("c.answered_at", "answered_at timestamptz"),
        ("c.ended_at", "ended_at timestamptz"), ("c.closed_at", "closed_at timestamptz"), ("c.outcome", "outcome text"),
        ("c.duration_s", "duration_s integer"), ("c.client_id", "client_id text"), ("c.patient_id", "patient_id text"),
        ("c.location_id", "location_id text"), ("c.author_staff_id", "author_staff_id text"), ("c.reason", "reason text"),
        ("c.address", "address text"), ("c.subject", "subject text"), ("c.description", "description text"), ("c.notes", "notes text"),
        ("c.source", "source text"), ("c.source_ref", "source_ref text"), ("c.template", "template text"),
        ("c.reminder_type", "reminder_type text"), ("c.reminder_count", "reminder_count integer"), ("c.ambiguous", "ambiguous boolean"),
        ("c.show_in_patient_history", "show_in_patient_history boolean"), ("c.print_in_patient_history", "print_in_patient_history boolean"),
        ("c.version", "version integer"),
    ]

    /// `columns` as a select list.
    public static var selectList: String { columns.map(\.select).joined(separator: ", ") }

    /// Decodes the `columns` of a row, the first at `offset`.
    public init(_ row: PostgresRandomAccessRow, from offset: Int = 0) throws {
        func cell<T: PostgresDecodable>(_ index: Int, _ type: T.Type = T.self) throws -> T { try row[offset + index].decode(T.self) }
        func optionalValue<T: RawRepresentable<String>>(_ index: Int, _ type: T.Type) throws -> T? {
            guard let raw = try cell(index, String?.self) else { return nil }
            guard let value = T(rawValue: raw) else { throw UnknownValue(column: Self.columns[index].select, value: raw) }
            return value
        }
        func value<T: RawRepresentable<String>>(_ index: Int, _ type: T.Type) throws -> T {
            guard let value = try optionalValue(index, T.self) else { throw UnknownValue(column: Self.columns[index].select, value: "null") }
            return value
        }
        try self.init(
            id: cell(0), type: value(1, CommunicationType.self), direction: optionalValue(2, Direction.self),
            status: value(3, CommunicationStatus.self), occurredAt: cell(4), claimedAt: cell(5), answeredAt: cell(6), endedAt: cell(7),
            closedAt: cell(8), outcome: optionalValue(9, CallOutcome.self), durationSeconds: cell(10), clientID: cell(11),
            patientID: cell(12), locationID: cell(13), authorStaffID: cell(14), reason: cell(15), address: cell(16), subject: cell(17),
            description: cell(18), notes: cell(19), source: value(20, CommunicationSource.self), sourceRef: cell(21), template: cell(22),
            reminderType: cell(23), reminderCount: cell(24), ambiguous: cell(25), showInPatientHistory: cell(26),
            printInPatientHistory: cell(27), version: cell(28)
        )
    }

    /// A value the schema's checks admit but this build does not know (a newer writer's).
    public struct UnknownValue: Error, CustomStringConvertible {
        public let column: String
        public let value: String
        public var description: String { "\(column) has a value this version does not know: \(value)" }
    }
}

/// An attachment of an entry as stored (its bytes are read apart, when downloaded).
public struct StoredAttachment: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var contentType: String
    public var size: Int
    /// The practice software's document this came from (`patient`, `client`, …) and its id, for forwarded documents.
    public var documentOwner: String?
    public var documentID: String?
}
