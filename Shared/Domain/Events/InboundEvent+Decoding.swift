import Foundation

extension InboundEvent {
    /// Decodes and validates an AMQP message body; `routingKey`, when given, must equal the `type`.
    ///
    /// The header comes first (type, version, id, occurred_at, organisation_id), then `data` by type,
    /// then the payload's `validate()`. Unknown fields are ignored, for forward compatibility.
    public static func decode(_ body: Data, routingKey: String?) throws(EventDecodingError) -> InboundEvent {
        if routingKey == EventType.mailMessageFetched.routingKey {
            throw .notJSONEnvelope(.mailMessageFetched)
        }
        // PostgreSQL's text cannot hold NUL: refused here with its reason rather than failing the batch later.
        guard !Check.containsEscapedNUL(body) else { throw .invalid(nil, "the event must not contain NUL characters (\\u0000)") }
        let decoder = ContractCoding.makeDecoder()
        if let routingKey { decoder.userInfo[.routingKey] = routingKey }
        do {
            return try decoder.decode(Decoded.self, from: body).event
        } catch let error as EventDecodingError {
            throw error
        } catch let error as DecodingError {
            throw EventDecodingError(error, body: body)
        } catch {
            throw .invalid(nil, "\(error)")
        }
    }

    /// Decodes and validates an AMQP message body given as bytes; see `decode(_:routingKey:)`.
    public static func decode(_ body: some Collection<UInt8>, routingKey: String?) throws(EventDecodingError) -> InboundEvent {
        try decode(Data(body), routingKey: routingKey)
    }
}

extension CodingUserInfoKey {
    /// The routing key the body arrived with, for the header check.
    fileprivate static let routingKey = CodingUserInfoKey(rawValue: "commlog.routingKey")!
}

/// The whole body read in one pass of the JSON decoder: the header first, then `data` by type.
private struct Decoded: Decodable {
    let event: InboundEvent

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeCodingKeys.self)
        let header = try EnvelopeHeader(from: container, routingKey: decoder.userInfo[.routingKey] as? String)
        let data = PayloadReader(header: header, container: container)
        switch header.type {
        case .reminderSent: event = .reminderSent(try data.read())
        case .emailSent: event = .emailSent(try data.read())
        case .smsSent: event = .smsSent(try data.read())
        case .smsReceived: event = .smsReceived(try data.read())
        case .statementSent: event = .statementSent(try data.read())
        case .organisationUpserted: event = .organisationUpserted(try data.read())
        case .locationUpserted: event = .locationUpserted(try data.read())
        case .staffUpserted: event = .staffUpserted(try data.read())
        case .clientUpserted: event = .clientUpserted(try data.read())
        case .patientUpserted: event = .patientUpserted(try data.read())
        case .connectionUpserted: event = .connectionUpserted(try data.read())
        case .organisationDeleted, .locationDeleted, .staffDeleted, .clientDeleted, .patientDeleted,
            .connectionDeleted:
            event = .directoryDeleted(try data.readDeletion())
        case .phoneCallEvent: event = .phoneCallEvent(try data.read())
        case .communicationLogged: event = .communicationLogged(try data.read())
        case .communicationUpdated: event = .communicationUpdated(try data.read())
        case .mailMessageFetched: throw EventDecodingError.notJSONEnvelope(header.type)  // refused by the header already
        }
    }
}

/// Reads `data` as the payload of the header's type and validates it.
private struct PayloadReader {
    let header: EnvelopeHeader
    let container: KeyedDecodingContainer<EnvelopeCodingKeys>

    func read<Payload: EventPayload>(_: Payload.Type = Payload.self) throws -> EventEnvelope<Payload> {
        try envelope(container.decode(Payload.self, forKey: .data))
    }

    func readDeletion() throws -> EventEnvelope<DirectoryDeleted> {
        guard let entity = header.type.directoryEntity else {
            throw EventDecodingError.invalid("type", "\(header.type.rawValue) is not a directory deletion")
        }
        guard container.contains(.data) else { throw EventDecodingError.required("data") }
        return try envelope(DirectoryDeleted(from: container.superDecoder(forKey: .data), entity: entity))
    }

    private func envelope<Payload: EventPayload>(_ data: Payload) throws -> EventEnvelope<Payload> {
        do throws(EventDecodingError) {
            try data.validate()
        } catch {
            throw error.nested(under: "data")
        }
        return EventEnvelope(header: header, data: data)
    }
}
