/// Why the log refused a change: its own rules in its own terms. query-api answers them as problem responses
/// at its HTTP edge (`notFound` 404, `staleVersion` 412, `notAllowed` 403, `immutable` 409, `invalid` 422).
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No such entry, or one the actor may not see.
    case notFound
    /// The entry changed since the version the actor read.
    case staleVersion(current: Int)
    /// The actor may not make this change (only the author or a manager edits a manual entry).
    case notAllowed(String)
    /// The entry cannot change this way (what was sent is never edited; a closed call never changes).
    case immutable(String)
    /// A field's value breaks a rule of the log (an unknown reason, a patient of another client).
    case invalid(field: String, String)

    public var description: String {
        switch self {
        case .notFound: "no such entry"
        case .staleVersion(let current): "the entry has changed since it was read (its ETag is now \"\(current)\"); reload it and try again"
        case .notAllowed(let reason), .immutable(let reason): reason
        case .invalid(let field, let reason): "\(field): \(reason)"
        }
    }
}

/// Who changes the log: a staff member, or the system (`staffID` nil: the phone system, the directory, auto-close).
public struct LogActor: Sendable, Equatable {
    public let staffID: String?
    /// A manager or admin: may change any manual entry.
    public let isManager: Bool

    public init(staffID: String, isManager: Bool) {
        self.staffID = staffID
        self.isManager = isManager
    }

    private init() {
        staffID = nil
        isManager = false
    }

    /// Commlog itself, recorded in the history as `staff_id` NULL.
    public static let system = LogActor()
}
