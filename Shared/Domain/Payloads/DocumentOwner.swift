/// Whose record a forwarded document belongs to.
public enum DocumentOwner: String, ContractEnum {
    /// A client's document.
    case client
    /// A patient's document (the patient's client is the client of the communication).
    case patient
}
