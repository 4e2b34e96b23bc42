import CommlogDomain
import Foundation

/// A Twilio-style status or recording callback (form-encoded), mapped to the normalised call event.
///
/// Status callbacks carry `CallSid`, `CallStatus`, `From`, `To`, `Direction`, `CallDuration`, `Timestamp`;
/// recording callbacks `CallSid`, `RecordingUrl` (and `RecordingStatus`). Twilio knows no extensions: an
/// `Extension` field (or `?extension=` on the callback URL) names the staff member's.
enum TwilioCallback {
    /// Why a callback cannot be mapped: a 400 for the sender.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// The events of one callback: the call's step (none for `queued`, `initiated`), and its recording when the
    /// callback carries a completed one (a recording callback, or a status callback of a recorded `<Dial>`).
    static func events(_ fields: [String: String], now: Date = Date()) throws -> [PhoneCallEvent] {
        guard let callSID = fields["CallSid"], !callSID.isEmpty else { throw Invalid(description: "CallSid: required") }
        var events: [PhoneCallEvent] = []
        let hasStatus = !(fields["CallStatus"] ?? "").isEmpty
        if hasStatus, let step = try event(fields, now: now) { events.append(step) }
        if let recordingURL = fields["RecordingUrl"], !recordingURL.isEmpty {
            if let status = fields["RecordingStatus"]?.lowercased(), status != "completed" { return events }
            let occurredAt = fields["Timestamp"].flatMap(parseTimestamp) ?? now
            events.append(PhoneCallEvent(source: "twilio", callID: callSID, seq: 4, kind: .recording, direction: direction(fields),
                                         from: fields["From"], to: fields["To"], phoneExtension: phoneExtension(fields),
                                         recordingURL: recordingURL, occurredAt: occurredAt))
        } else if !hasStatus {
            throw Invalid(description: "CallStatus: required (or RecordingUrl for a recording callback)")
        }
        return events
    }

    private static func direction(_ fields: [String: String]) -> Direction? {
        switch fields["Direction"]?.lowercased() {
        case "inbound"?: .inbound
        case let value? where value.hasPrefix("outbound"): .outbound
        default: nil
        }
    }

    private static func phoneExtension(_ fields: [String: String]) -> String? {
        fields["Extension"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The call's step for a status callback; nil for statuses that say nothing about the call yet (`queued`, `initiated`).
    static func event(_ fields: [String: String], now: Date = Date()) throws -> PhoneCallEvent? {
        guard let callSID = fields["CallSid"], !callSID.isEmpty else { throw Invalid(description: "CallSid: required") }
        let direction = Self.direction(fields)
        let occurredAt = fields["Timestamp"].flatMap(parseTimestamp) ?? now
        let phoneExtension = Self.phoneExtension(fields)
        guard let status = fields["CallStatus"]?.lowercased(), !status.isEmpty else {
            throw Invalid(description: "CallStatus: required")
        }
        let mapped: (kind: CallKind, outcome: CallOutcome?)
        switch status {
        case "queued", "initiated": return nil
        case "ringing": mapped = (.ringing, nil)
        case "in-progress", "answered": mapped = (.answered, nil)
        case "completed": mapped = (.ended, .answered)
        case "busy": mapped = (.ended, .busy)
        case "no-answer", "canceled": mapped = (.ended, .missed)
        case "failed": mapped = (.ended, .failed)
        default: throw Invalid(description: "CallStatus: unknown status \"\(status)\"")
        }
        let (kind, outcome) = mapped
        var duration: Int?
        if kind == .ended, let text = fields["CallDuration"], !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else { throw Invalid(description: "CallDuration: must be whole seconds (got \"\(text)\")") }
            duration = seconds
        }
        // Twilio's own SequenceNumber counts callbacks, not steps: the step decides the order.
        let seq: Int = switch kind {
        case .ringing: 1
        case .answered: 2
        case .ended: 3
        case .recording: 4
        }
        return PhoneCallEvent(source: "twilio", callID: callSID, seq: seq, kind: kind, direction: direction, from: fields["From"], to: fields["To"],
                              phoneExtension: phoneExtension, outcome: outcome, durationSeconds: duration, occurredAt: occurredAt)
    }

    /// `application/x-www-form-urlencoded` fields (the last of a repeated name wins).
    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in pairs(body) { fields[name] = value }
        return fields
    }

    /// The form's fields in order, a name given twice kept twice (the signature covers every value).
    static func pairs(_ body: String) -> [(name: String, value: String)] {
        body.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Twilio's `Timestamp`: RFC 2822 (`Tue, 10 Jan 2023 19:22:37 +0000`); RFC 3339 is accepted too.
    static func parseTimestamp(_ text: String) -> Date? {
        if let date = RFC3339.date(from: text) { return date }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.date(from: text)
    }
}
