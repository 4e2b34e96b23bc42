import Foundation

/// `phone.call.event`: one step of a call, as normalised from the phone system; also the webhook body.
public struct PhoneCallEvent: EventPayload, Hashable {
    /// The phone system that reported it, e.g. `generic`, `twilio`, `mitel-smdr`.
    public let source: String
    /// The call's id at the source; `(source, call_id)` is one call.
    public let callID: String
    /// Orders the events of a call, which may arrive out of order or twice.
    public let seq: Int
    /// The step reported.
    public let kind: CallKind
    /// Inbound or outbound, when the source knows.
    public let direction: Direction?
    /// The calling number.
    public let from: String?
    /// The called number.
    public let to: String?
    /// The staff extension that rang or answered.
    public let phoneExtension: String?
    /// How the call turned out; only with `ended`.
    public let outcome: CallOutcome?
    /// The call's length in seconds.
    public let durationSeconds: Int?
    /// Where the recording can be fetched; required with `recording`.
    public let recordingURL: String?
    /// When the step happened on the phone system, to the microsecond.
    public let occurredAt: Date

    /// Creates a call event; `occurredAt` is rounded to the microsecond so that it round-trips exactly.
    public init(
        source: String,
        callID: String,
        seq: Int,
        kind: CallKind,
        direction: Direction? = nil,
        from: String? = nil,
        to: String? = nil,
        phoneExtension: String? = nil,
        outcome: CallOutcome? = nil,
        durationSeconds: Int? = nil,
        recordingURL: String? = nil,
        occurredAt: Date
    ) {
        self.source = source
        self.callID = callID
        self.seq = seq
        self.kind = kind
        self.direction = direction
        self.from = from
        self.to = to
        self.phoneExtension = phoneExtension
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.recordingURL = recordingURL
        self.occurredAt = RFC3339.normalized(occurredAt)
    }

    /// Source and call id are non-empty identifiers, seq and duration from zero to 2³¹ - 1 (what the columns
    /// hold), numbers and the extension at most 100 characters, the URL at most 2,048, outcome only when
    /// ended, and a recording event has its URL.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(source, "source")
        try Check.identifier(callID, "call_id")
        try Check.storable(seq, "seq")
        try Check.storable(durationSeconds, "duration_s")
        try Check.length(from, "from", atMost: 100)
        try Check.length(to, "to", atMost: 100)
        try Check.length(phoneExtension, "extension", atMost: 100)
        try Check.length(recordingURL, "recording_url", atMost: 2_048)
        if let outcome, kind != .ended {
            throw .invalid("outcome", "only an ended call has an outcome (got \"\(outcome.rawValue)\" with kind \"\(kind.rawValue)\")")
        }
        if kind == .recording {
            guard let recordingURL else { throw .required("recording_url") }
            try Check.nonEmpty(recordingURL, "recording_url")
        }
    }

    /// Only `phone.call.event` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .phoneCallEvent }
}

extension PhoneCallEvent {
    enum CodingKeys: String, CodingKey {
        case source
        case callID = "call_id"
        case seq
        case kind
        case direction
        case from
        case to
        case phoneExtension = "extension"
        case outcome
        case durationSeconds = "duration_s"
        case recordingURL = "recording_url"
        case occurredAt = "occurred_at"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.source = try container.decode(String.self, forKey: .source)
        self.callID = try container.decode(String.self, forKey: .callID)
        self.seq = try container.decodeInteger(forKey: .seq)
        self.kind = try container.decode(CallKind.self, forKey: .kind)
        self.direction = try container.decodeIfPresent(Direction.self, forKey: .direction)
        self.from = try container.decodeIfPresent(String.self, forKey: .from)
        self.to = try container.decodeIfPresent(String.self, forKey: .to)
        self.phoneExtension = try container.decodeIfPresent(String.self, forKey: .phoneExtension)
        self.outcome = try container.decodeIfPresent(CallOutcome.self, forKey: .outcome)
        self.durationSeconds = try container.decodeIntegerIfPresent(forKey: .durationSeconds)
        self.recordingURL = try container.decodeIfPresent(String.self, forKey: .recordingURL)
        // Parsed dates are already whole microseconds.
        self.occurredAt = try container.decode(Date.self, forKey: .occurredAt)
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(callID, forKey: .callID)
        try container.encode(seq, forKey: .seq)
        try container.encode(kind, forKey: .kind)
        try container.encode(direction, forKey: .direction)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(phoneExtension, forKey: .phoneExtension)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(recordingURL, forKey: .recordingURL)
        try container.encode(occurredAt, forKey: .occurredAt)
    }
}
