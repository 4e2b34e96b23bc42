import Foundation

/// The envelope version this service reads and writes.
enum EventEnvelopeVersion {
    static let current = 1
}

/// The v1 envelope around every event on `commlog.events`; `id` is the idempotency key.
public struct EventEnvelope<Payload: Sendable>: Sendable {
    /// The only envelope version this service understands.
    public static var supportedVersion: Int { EventEnvelopeVersion.current }

    /// The longest `id` and `organisation_id` accepted.
    public static var maximumIdentifierLength: Int { Check.maximumIdentifierLength }

    /// The idempotency key: the same event delivered twice is logged once. Also the AMQP `message_id`.
    public let id: String
    /// The event type, equal to the routing key.
    public let type: EventType
    /// The envelope version; always 1.
    public let version: Int
    /// When it happened at the source, to the microsecond.
    public let occurredAt: Date
    /// The practice software's id of the organisation (the tenant).
    public let organisationID: String
    /// The type-specific payload.
    public let data: Payload

    /// Creates a version 1 envelope; `occurredAt` is rounded to the microsecond so that it round-trips exactly.
    public init(
        type: EventType,
        organisationID: String,
        data: Payload,
        id: String = UUID().uuidString.lowercased(),
        occurredAt: Date = Date()
    ) {
        self.id = id
        self.type = type
        self.version = EventEnvelopeVersion.current
        self.occurredAt = RFC3339.normalized(occurredAt)
        self.organisationID = organisationID
        self.data = data
    }

    init(header: EnvelopeHeader, data: Payload) {
        self.id = header.id
        self.type = header.type
        self.version = EventEnvelopeVersion.current
        self.occurredAt = header.occurredAt
        self.organisationID = header.organisationID
        self.data = data
    }
}

extension EventEnvelope: Equatable where Payload: Equatable {}

extension EventEnvelope: Hashable where Payload: Hashable {}

extension EventEnvelope where Payload: EventPayload {
    /// Applies the rules `InboundEvent.decode` applies, e.g. before publishing.
    public func validate() throws(EventDecodingError) {
        guard type.hasJSONEnvelope else { throw .notJSONEnvelope(type) }
        guard version == EventEnvelopeVersion.current else { throw .unsupportedVersion(version) }
        try Check.identifier(id, "id")
        try Check.identifier(organisationID, "organisation_id")
        guard data.isCarried(by: type) else {
            throw .invalid("type", "\(type.rawValue) does not carry \(Payload.self) data")
        }
        do throws(EventDecodingError) {
            try data.validate()
        } catch {
            throw error.nested(under: "data")
        }
    }
}

extension EventEnvelope where Payload: Encodable {
    /// The contract JSON of this event: snake_case keys, RFC 3339 dates in UTC with fractional seconds.
    public func encoded() throws -> [UInt8] {
        guard let payload = data as? any JSONWritable else { return Array(try ContractCoding.makeEncoder().encode(self)) }
        // The events Commlog publishes for every entry it logs are written without `JSONEncoder`.
        var json = JSONWriter(capacity: 512)
        json.raw("{\"id\":"); json.string(id)
        json.raw(",\"type\":"); json.string(type)
        json.raw(",\"version\":"); json.number(version)
        json.raw(",\"occurred_at\":"); json.date(occurredAt)
        json.raw(",\"organisation_id\":"); json.string(organisationID)
        json.raw(",\"data\":"); payload.write(to: &json)
        json.raw("}")
        return json.bytes
    }
}
