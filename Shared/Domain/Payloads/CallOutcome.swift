/// How an ended call turned out.
public enum CallOutcome: String, ContractEnum {
    /// It was answered.
    case answered
    /// Nobody answered: logged and closed at once.
    case missed
    /// The line was busy.
    case busy
    /// The call failed to connect.
    case failed
}
