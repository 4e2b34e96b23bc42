import CommlogDomain
import Foundation

/// A log entry as lists show it; `content` and the rest are read only by id.
struct EntrySummary: Sendable, Hashable {
    var id: UUID
    var type: String
    var direction: String?
    var status: String
    var occurredAt: Date
    var answeredAt: Date?
    var endedAt: Date?
    var closedAt: Date?
    var outcome: String?
    var durationSeconds: Int?
    var clientID: String?
    var patientID: String?
    var locationID: String?
    var authorStaffID: String?
    var reason: String?
    var address: String?
    var subject: String?
    var description: String?
    var notes: String?
    var source: String
    var showInPatientHistory: Bool
    var hasRecording: Bool
    var version: Int

    /// `occurred_at` exactly as stored, for the page cursor.
    var occurredAtMicroseconds: Int64 = 0
    var template: String? = nil
    var reminderType: String? = nil
    var reminderCount: Int? = nil
    var ambiguous = false
    /// The time the sender gave, when it was later than Commlog received the entry (`occurred_at` is then the receipt).
    var claimedAt: Date? = nil
    /// Printed with the patient's medical history.
    var printInPatientHistory = false
    /// The directory's names of its ids, as they are now.
    var names = EntryNames()
    var participants: [Participant] = []
}

/// The display names of an entry's ids: `null` for a record the directory does not know (yet).
struct EntryNames: Sendable, Hashable {
    var client: String?
    var patient: String?
    var location: String?
    var author: String?
    /// The label of the reason code: the organisation's own, or the standard one.
    var reason: String?
}
