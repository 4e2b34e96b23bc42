/// A kind of entry in the practice software's directory (its master data).
public enum DirectoryEntity: String, ContractEnum {
    /// The organisation itself.
    case organisation
    /// A practice location.
    case location
    /// An employee.
    case staff
    /// The organisation's customer.
    case client
    /// The subject of care that belongs to a client.
    case patient
    /// A person related to a client (family member, carer).
    case connection

    /// The key of its identifier in event data, e.g. `client_id`.
    public var idKey: String { rawValue + "_id" }

    /// The event type that creates or changes an entry of this kind.
    public var upsertedEventType: EventType {
        switch self {
        case .organisation: .organisationUpserted
        case .location: .locationUpserted
        case .staff: .staffUpserted
        case .client: .clientUpserted
        case .patient: .patientUpserted
        case .connection: .connectionUpserted
        }
    }

    /// The event type that deletes an entry of this kind.
    public var deletedEventType: EventType {
        switch self {
        case .organisation: .organisationDeleted
        case .location: .locationDeleted
        case .staff: .staffDeleted
        case .client: .clientDeleted
        case .patient: .patientDeleted
        case .connection: .connectionDeleted
        }
    }
}
