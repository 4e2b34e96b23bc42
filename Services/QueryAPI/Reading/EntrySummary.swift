import CommlogDomain
import Foundation
import LogStore

/// A log entry as lists show it: the log's `StoredEntry` (its fields read through `summary.type` and the like),
/// whether it has a recording, and the directory's names of its ids. `content` and the rest are read only by id.
@dynamicMemberLookup
struct EntrySummary: Sendable, Hashable {
    var entry: StoredEntry
    var hasRecording: Bool
    /// `occurred_at` exactly as stored, for the page cursor.
    var occurredAtMicroseconds: Int64 = 0
    /// The directory's names of its ids, as they are now.
    var names = EntryNames()

    subscript<Value>(dynamicMember field: WritableKeyPath<StoredEntry, Value>) -> Value {
        get { entry[keyPath: field] }
        set { entry[keyPath: field] = newValue }
    }
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
