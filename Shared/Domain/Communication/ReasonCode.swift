/// Why a communication happened: one of the standard codes, or an organisation's own.
public struct ReasonCode: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// The code, e.g. `AD_HOC_EMAIL`.
    public let rawValue: String

    /// Wraps a code; any string an organisation defines is accepted.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Wraps a code.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// Wraps a code written as a literal.
    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// An email sent ad hoc to a client.
    public static let adHocEmail = ReasonCode("AD_HOC_EMAIL")
    /// An SMS sent ad hoc to a client.
    public static let adHocSMS = ReasonCode("AD_HOC_SMS")
    /// A patient reminder (vaccination, check-up).
    public static let patientReminder = ReasonCode("PATIENT_REMINDER")
    /// An appointment reminder.
    public static let appointmentReminder = ReasonCode("APPOINTMENT_REMINDER")
    /// An email carrying client or patient documents.
    public static let forwardedDocument = ReasonCode("FORWARDED_DOCUMENT")

    /// The codes every organisation has.
    public static let standard: [ReasonCode] = [
        .adHocEmail, .adHocSMS, .patientReminder, .appointmentReminder, .forwardedDocument,
    ]

    /// Whether this is one of the standard codes rather than an organisation's own.
    public var isStandard: Bool { Self.standard.contains(self) }

    /// The code itself.
    public var description: String { rawValue }

    /// Decodes a bare string.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes a bare string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
