import Foundation

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

    /// The code an organisation's own reason gets from a label (a legacy note's category), the way OpenVPMS's
    /// lookup codes look: accents dropped, upper-case, every run of characters other than A–Z and 0–9 one `_`,
    /// none at either end, at most 64 bytes. A label with nothing of A–Z and 0–9 in it (`—`, `予約`) gets
    /// `CATEGORY_` and a hash of the label instead; an empty label has no code.
    public init?(label: String) {
        let folded = label.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil).uppercased()
        var code: [UInt8] = []
        for byte in folded.utf8 {
            if (65...90).contains(byte) || (48...57).contains(byte) {
                code.append(byte)
            } else if let last = code.last, last != 95 {
                code.append(95)
            }
            if code.count == 64 { break }
        }
        while code.last == 95 { code.removeLast() }
        if code.isEmpty {
            guard !label.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
            // FNV-1a: stable across runs and machines (Hasher is seeded per process).
            var hash: UInt32 = 2_166_136_261
            for byte in label.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            self.init("CATEGORY_" + String(hash, radix: 16, uppercase: true))
            return
        }
        self.init(String(decoding: code, as: UTF8.self))
    }

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
