import CommlogDomain
import Foundation

/// What the phone system has said about one call, folded from all its events in `seq` order.
///
/// The fold depends only on the set of events, not on the order they arrived in or how often: the consumer
/// keeps every event and recomputes the call from all of them, so duplicates and shuffles give the same call.
struct CallFacts: Equatable, Sendable {
    var direction: Direction = .inbound
    var from: String?
    var to: String?
    /// Staff extensions that handled the call, first answerer first (a transfer adds the next one).
    var extensions: [String] = []
    /// When the call started: its first ringing or answered event.
    var occurredAt: Date
    var answeredAt: Date?
    var endedAt: Date?
    var outcome: CallOutcome?
    var durationSeconds: Int?
    var recordingURL: String?

    /// The number outside the practice: the caller of an inbound call, the callee of an outbound one.
    var externalNumber: String? { direction == .outbound ? to : from }

    /// A call nobody answered (missed, busy, failed) is logged closed at once; any other stays open for staff.
    var closesAtOnce: Bool {
        switch outcome {
        case .missed?, .busy?, .failed?: true
        case .answered?, nil: false
        }
    }

    /// Folds `events` (any order, duplicates allowed; at least one) into the call's facts.
    init?(_ events: [PhoneCallEvent]) {
        let ordered = events.sorted { ($0.seq, Self.rank($0.kind), $0.occurredAt) < ($1.seq, Self.rank($1.kind), $1.occurredAt) }
        guard let first = ordered.first else { return nil }
        let starts = ordered.filter { $0.kind == .ringing || $0.kind == .answered }.map(\.occurredAt)
        occurredAt = starts.min() ?? ordered.map(\.occurredAt).min() ?? first.occurredAt
        var ringingExtensions: [String] = []
        var ended: PhoneCallEvent?
        for event in ordered {
            if let direction = event.direction { self.direction = direction }
            if let from = event.from, !from.isEmpty { self.from = from }
            if let to = event.to, !to.isEmpty { self.to = to }
            if let phoneExtension = event.phoneExtension?.trimmingCharacters(in: .whitespaces), !phoneExtension.isEmpty {
                if event.kind == .ringing {
                    if !ringingExtensions.contains(phoneExtension) { ringingExtensions.append(phoneExtension) }
                } else if !extensions.contains(phoneExtension) {
                    extensions.append(phoneExtension)
                }
            }
            switch event.kind {
            case .answered:
                answeredAt = min(answeredAt ?? event.occurredAt, event.occurredAt)
            case .ended:
                ended = event
            case .recording:
                recordingURL = event.recordingURL
            case .ringing:
                break
            }
        }
        // The extension that rang is the handler of a call nobody answered (so that its staff member sees it).
        if extensions.isEmpty { extensions = ringingExtensions }
        if let ended {
            endedAt = ended.occurredAt
            outcome = ended.outcome ?? (answeredAt == nil ? .missed : .answered)
            if let seconds = ended.durationSeconds {
                durationSeconds = seconds
            } else if let answeredAt {
                durationSeconds = max(0, Int(ended.occurredAt.timeIntervalSince(answeredAt).rounded()))
            } else {
                durationSeconds = 0
            }
        }
    }

    /// Events of the same seq apply in the order a call goes through them.
    private static func rank(_ kind: CallKind) -> Int {
        switch kind {
        case .ringing: 0
        case .answered: 1
        case .ended: 2
        case .recording: 3
        }
    }
}
