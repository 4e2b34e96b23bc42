/// The step of a call a phone event reports.
public enum CallKind: String, ContractEnum {
    /// The phone is ringing: the call opens.
    case ringing
    /// Someone picked up.
    case answered
    /// The call ended on the phone; it may carry an outcome.
    case ended
    /// A recording of the call is available at `recording_url`.
    case recording
}
