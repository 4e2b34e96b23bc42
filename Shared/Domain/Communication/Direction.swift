/// Which way a communication went, seen from the organisation.
public enum Direction: String, ContractEnum {
    /// From a client (or anyone outside) to the organisation.
    case inbound
    /// From the organisation outwards.
    case outbound
}
