/// A staff member's permission level.
public enum StaffRole: String, ContractEnum {
    /// Sees the communications of related clients and those they take part in.
    case staff
    /// High-level permission: the organisation-wide board and editing others' manual entries.
    case manager
    /// Manages mailboxes, reasons, settings and dead letters, and sees the board.
    case admin
}
