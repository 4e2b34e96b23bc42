import Foundation

extension PhoneCallEvent {
    /// Decodes the call-bridge webhook body, one event object or an array of them, and validates each.
    ///
    /// Field paths in errors start at the body: `seq` for a single event, `[1].seq` in an array.
    public static func decodeWebhookBody(_ body: Data) throws(EventDecodingError) -> [PhoneCallEvent] {
        let events: [PhoneCallEvent]
        guard !Check.containsEscapedNUL(body) else { throw .invalid(nil, "the body must not contain NUL characters (\\u0000)") }
        let isArray = body.first(where: { !isJSONWhitespace($0) }) == UInt8(ascii: "[")
        do {
            let decoder = ContractCoding.makeDecoder()
            events = isArray ? try decoder.decode([PhoneCallEvent].self, from: body) : [try decoder.decode(PhoneCallEvent.self, from: body)]
        } catch let error as DecodingError {
            throw EventDecodingError(error, body: body)
        } catch let error as EventDecodingError {
            throw error
        } catch {
            throw .invalid(nil, "\(error)")
        }
        for (index, event) in events.enumerated() {
            do throws(EventDecodingError) {
                try event.validate()
            } catch {
                throw isArray ? error.nested(under: "[\(index)]") : error
            }
        }
        return events
    }

    /// Decodes the call-bridge webhook body from bytes; see `decodeWebhookBody(_:)`.
    public static func decodeWebhookBody(_ body: some Collection<UInt8>) throws(EventDecodingError) -> [PhoneCallEvent] {
        try decodeWebhookBody(Data(body))
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
