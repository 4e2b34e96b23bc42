/// The part a party plays in a communication.
public enum ParticipantRole: String, ContractEnum {
    /// The sender.
    case from
    /// A recipient.
    case to
    /// A copy recipient.
    case cc
    /// A blind copy recipient.
    case bcc
    /// Who placed the call.
    case caller
    /// Who was called.
    case callee
    /// The staff member who handled the call.
    case handler
    /// Someone the entry is related to (added while a call is open).
    case related
}
