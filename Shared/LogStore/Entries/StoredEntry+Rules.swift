import CommlogDomain
import Foundation

/// The rules of the log that an entry's own fields decide.
extension StoredEntry {
    /// Logged by staff (`source` manual): changed by its author or a manager.
    public var isManual: Bool { source == .manual }
    /// A call logged from the phone system: edited while open, never after.
    public var isPhoneSystemCall: Bool { type == .phone && source == .phone }

    /// Why an entry that is neither manual nor an open call never changes.
    public var immutableReason: String {
        switch type {
        case .email, .sms: "\(type == .sms ? "SMS" : "email") entries are what was sent or received: they are never edited or deleted"
        case .phone: "calls from the phone system change only while open, and only their title, description and related people"
        case _ where source == .import: "notes imported from the practice's old system are kept as they were: they are never edited or deleted"
        default: "entries logged from the \(source == .mailbox ? "mailbox" : "practice software") (\(type.rawValue)) are what was sent: they are never edited or deleted"
        }
    }

    /// `If-Match` against the version: `*`, or any of a comma-separated list of (weak or strong) tags.
    public func check(ifMatch: String) throws(LogError) {
        let tags = ifMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let current = "\"\(version)\""
        guard tags.contains(where: { $0 == "*" || $0 == current || $0 == "W/" + current }) else { throw .staleVersion(current: version) }
    }
}
