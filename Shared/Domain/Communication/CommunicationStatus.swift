/// Whether an entry can still change.
public enum CommunicationStatus: String, ContractEnum {
    /// A phone call not yet ended by staff: title, description and related parties can be edited.
    case open
    /// Final; every type but phone is closed from the start.
    case closed
}
