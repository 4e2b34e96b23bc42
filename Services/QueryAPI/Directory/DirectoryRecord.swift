import CommlogDomain

/// A client, patient, connection or staff member as a directory look-up finds it.
struct DirectoryRecord: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable {
        case client, patient, connection, staff
    }

    /// What the look-up found the record by.
    enum Match: String, Sendable {
        case name, email, phone
        /// A staff member's extension: internal, so not a contact detail (answered as `phone`).
        case `extension`
    }

    struct Key: Hashable, Sendable {
        let kind: Kind
        let id: String
    }

    let kind: Kind
    let id: String
    let name: String
    /// The client a patient or connection belongs to.
    var clientID: String?
    var clientName: String?
    var relationship: String?
    var roles: [StaffRole] = []
    var `extension`: String?
    var emails: [String] = []
    var phones: [String] = []
    /// Whether the caller may see `emails` and `phones`.
    var mayContact = false
    var matched: Match = .name

    var key: Key { Key(kind: kind, id: id) }
}
