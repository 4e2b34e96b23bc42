import CommlogDomain
import Foundation

/// A staff member, client or connection an entry is related to: a directory record, as `ContactOwner` names one.
public typealias RelatedPerson = ContactOwner

/// A manual entry to log (a note, a call, a letter, or an SMS or email sent or received outside Commlog, logged by hand), its
/// values already validated.
public struct ManualEntry: Sendable {
    public var type: CommunicationType
    public var clientID: String
    public var patientID: String?
    public var locationID: String?
    public var direction: Direction?
    public var occurredAt: Date
    public var reason: String?
    public var address: String?
    public var subject: String?
    public var description: String?
    public var notes: String?

    public init(type: CommunicationType, clientID: String, occurredAt: Date) {
        self.type = type
        self.clientID = clientID
        self.occurredAt = occurredAt
    }
}

/// The fields a change sets. For text fields nil means unchanged, `.some(nil)` cleared.
public struct EntryChange: Sendable {
    public var subject: String??
    public var description: String??
    public var notes: String??
    public var reason: String??
    public var address: String??
    public var patientID: String??
    public var occurredAt: Date?
    public var direction: Direction?
    public var related: [RelatedPerson]?
    /// Re-files the entry under this client.
    public var clientID: String?
    public var showInPatientHistory: Bool?
    public var printInPatientHistory: Bool?

    public init() {}

    public var isEmpty: Bool {
        subject == nil && description == nil && notes == nil && reason == nil && address == nil && patientID == nil
            && occurredAt == nil && direction == nil && related == nil && isFilingEmpty
    }

    private var isFilingEmpty: Bool { clientID == nil && showInPatientHistory == nil && printInPatientHistory == nil }

    /// Only where the entry is filed changes (client, patient, related people, the history flags): allowed on
    /// every entry its actor may see, whatever its type or state.
    public var isFilingOnly: Bool {
        let files = !isFilingEmpty || patientID != nil || related != nil
        let more = subject != nil || description != nil || notes != nil || reason != nil || address != nil || occurredAt != nil || direction != nil
        return files && !more
    }

    /// Fields given that an open call does not take (only title/subject, description and related).
    public var fieldsOutsideCallEdits: [String] {
        var fields: [String] = []
        if notes != nil { fields.append("notes") }
        if reason != nil { fields.append("reason") }
        if address != nil { fields.append("address") }
        if patientID != nil { fields.append("patient_id") }
        if occurredAt != nil { fields.append("occurred_at") }
        if direction != nil { fields.append("direction") }
        return fields
    }

    /// The text columns to set, in a fixed order.
    var textAssignments: [(column: String, value: String?)] {
        [("subject", subject), ("description", description), ("notes", notes), ("reason", reason), ("address", address), ("patient_id", patientID)]
            .compactMap { column, value in value.map { (column, $0) } }
    }
}
