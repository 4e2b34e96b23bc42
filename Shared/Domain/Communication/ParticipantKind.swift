/// Whom a participant was matched to.
public enum ParticipantKind: String, ContractEnum {
    /// A staff member.
    case staff
    /// A client.
    case client
    /// A connection of a client.
    case connection
    /// Nobody in the directory; only the address is known.
    case external
}
