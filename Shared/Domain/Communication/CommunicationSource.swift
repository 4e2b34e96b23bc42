/// Where an entry came from; with `source_ref` it is the idempotency key of the entry.
public enum CommunicationSource: String, ContractEnum {
    /// Entered by staff through the API.
    case manual
    /// Imported from a shared mailbox.
    case mailbox
    /// Logged from a practice-software event.
    case practice
    /// Reported by the phone system.
    case phone
    /// Imported from the practice's old system (`commlog import notes`); `source_ref` is `import:<legacy id>`.
    case `import`
}
