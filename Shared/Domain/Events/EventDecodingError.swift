/// Why an event body was refused: the field (a JSON path such as `data.to[1]`) and what is wrong with it.
///
/// Its `description` is meant for people: it becomes the dead-letter reason and the webhook's error message.
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, stable enough for metrics labels; compare against the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidJSON = "invalid_json"
            case missingField = "missing_field"
            case typeMismatch = "type_mismatch"
            case invalidValue = "invalid_value"
            case unknownEventType = "unknown_event_type"
            case unsupportedEventType = "unsupported_event_type"
            case routingKeyMismatch = "routing_key_mismatch"
            case unsupportedVersion = "unsupported_version"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The body is not JSON at all.
        public static let invalidJSON = Code(.invalidJSON)
        /// A required field is absent or null.
        public static let missingField = Code(.missingField)
        /// A field has the wrong JSON type (a string where a number belongs, an array where an object does).
        public static let typeMismatch = Code(.typeMismatch)
        /// A field has the right type but a value the contract does not allow.
        public static let invalidValue = Code(.invalidValue)
        /// `type` names no event this service knows.
        public static let unknownEventType = Code(.unknownEventType)
        /// The event type is known but does not travel as a JSON envelope (`mail.message.fetched`).
        public static let unsupportedEventType = Code(.unsupportedEventType)
        /// `type` differs from the routing key the message was published with.
        public static let routingKeyMismatch = Code(.routingKeyMismatch)
        /// `version` is not one this service understands.
        public static let unsupportedVersion = Code(.unsupportedVersion)

        /// The code in snake_case, e.g. `missing_field`.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// The JSON path of the offending value (`data.reminder_count`, `data.to[1]`); `nil` for the body as a whole.
    public let field: String?
    /// What is wrong, e.g. `is required` or `must be one of email, sms (got "fax")`.
    public let message: String

    /// Creates an error; `field` is a JSON path, `nil` meaning the whole body.
    public init(code: Code, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// `field: message`, with `body` standing for the whole body.
    public var description: String { "\(field ?? "body"): \(message)" }

    /// The same error with its field moved under `prefix` (`to[1]` under `data` is `data.to[1]`).
    public func nested(under prefix: String) -> EventDecodingError {
        EventDecodingError(code: code, field: Self.path(prefix, field), message: message)
    }

    // MARK: - Making errors

    static func required(_ field: String) -> EventDecodingError {
        EventDecodingError(code: .missingField, field: field, message: "is required")
    }

    static func invalid(_ field: String?, _ message: String) -> EventDecodingError {
        EventDecodingError(code: .invalidValue, field: field, message: message)
    }

    static func unknownType(_ name: String) -> EventDecodingError {
        EventDecodingError(code: .unknownEventType, field: "type", message: "unknown event type \(quoted(name))")
    }

    static func notJSONEnvelope(_ type: EventType) -> EventDecodingError {
        EventDecodingError(
            code: .unsupportedEventType,
            field: "type",
            message: "\(type.rawValue) carries a raw RFC 5322 message, not a JSON envelope"
        )
    }

    static func routingKeyMismatch(type: String, routingKey: String) -> EventDecodingError {
        EventDecodingError(
            code: .routingKeyMismatch,
            field: "type",
            message: "must equal the routing key \(quoted(routingKey)) (got \(quoted(type)))"
        )
    }

    static func unsupportedVersion(_ version: Int) -> EventDecodingError {
        EventDecodingError(
            code: .unsupportedVersion,
            field: "version",
            message: "unsupported version \(version) (this service understands \(EventEnvelopeVersion.current))"
        )
    }

    // MARK: - Paths and values in messages

    /// Joins two JSON path parts: `data` + `to[1]` is `data.to[1]`, `to` + `[1]` is `to[1]`.
    static func path(_ prefix: String?, _ suffix: String?) -> String? {
        guard let prefix, !prefix.isEmpty else { return suffix }
        guard let suffix, !suffix.isEmpty else { return prefix }
        return suffix.utf8.first == UInt8(ascii: "[") ? prefix + suffix : prefix + "." + suffix
    }

    /// A value as a message shows it: in double quotes, cut short when long.
    static func quoted(_ value: String) -> String {
        let shown = value.count > 80 ? String(value.prefix(77)) + "..." : value
        var result = "\""
        for character in shown {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result + "\""
    }
}
