import Foundation

/// The envelope's keys, as the contract spells them.
enum EnvelopeCodingKeys: String, CodingKey {
    case id
    case type
    case version
    case occurredAt = "occurred_at"
    case organisationID = "organisation_id"
    case data
}

/// The envelope without its data, read in the order that reports the most useful error first.
struct EnvelopeHeader: Sendable {
    let id: String
    let type: EventType
    let occurredAt: Date
    let organisationID: String

    /// Reads and checks the header; a `routingKey`, when given, must equal `type`.
    init(from container: KeyedDecodingContainer<EnvelopeCodingKeys>, routingKey: String?) throws {
        // Type and version first: they decide whether the rest can be understood at all.
        let typeName = try container.decode(String.self, forKey: .type)
        guard let type = EventType(rawValue: typeName) else { throw EventDecodingError.unknownType(typeName) }
        if let routingKey, routingKey != typeName {
            throw EventDecodingError.routingKeyMismatch(type: typeName, routingKey: routingKey)
        }
        guard type.hasJSONEnvelope else { throw EventDecodingError.notJSONEnvelope(type) }
        let version = try container.decodeInteger(forKey: .version)
        guard version == EventEnvelopeVersion.current else { throw EventDecodingError.unsupportedVersion(version) }

        self.type = type
        self.id = try container.decode(String.self, forKey: .id)
        try Check.identifier(id, "id")
        self.occurredAt = try container.decode(Date.self, forKey: .occurredAt)
        self.organisationID = try container.decode(String.self, forKey: .organisationID)
        try Check.identifier(organisationID, "organisation_id")
    }
}

extension EventEnvelope: Decodable where Payload: Decodable {
    /// Decodes and checks the header, then `data` as `Payload` (its `validate()` is left to the caller).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeCodingKeys.self)
        let header = try EnvelopeHeader(from: container, routingKey: nil)
        self.init(header: header, data: try container.decode(Payload.self, forKey: .data))
    }
}

extension EventEnvelope: Encodable where Payload: Encodable {
    /// Encodes the envelope with `data` nested under its key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EnvelopeCodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(version, forKey: .version)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(organisationID, forKey: .organisationID)
        try container.encode(data, forKey: .data)
    }
}
