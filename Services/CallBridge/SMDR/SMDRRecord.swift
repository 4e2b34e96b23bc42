import CommlogDomain
import Crypto
import Foundation

/// One Mitel MiVoice Business SMDR record: a fixed-width line written when a call ends.
struct SMDRRecord: Equatable, Sendable {
    /// `-` 5–10 min, `%` 10–30 min, `+` 30 min or more; blank for shorter calls.
    var longCall: Character?
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var durationSeconds: Int
    var callingParty: String
    /// An attendant (operator console) took part in the call.
    var attendant: Bool
    /// Seconds until answered; nil when it was never answered (`***`) or not reported.
    var timeToAnswer: Int?
    var unanswered: Bool
    var digitsDialed: String
    /// Completion status: `B` busy, `E` number error, `A`/`T` answered, blank when not reported.
    var completion: Character?
    var calledParty: String
    /// `T` or `X` transfer, `C` conference; nil otherwise.
    var transfer: Character?
    var thirdParty: String
    var ani: String?
    var dnis: String?
    var callID: String?

    /// Parses `line` with `layout`; nil when it is not an SMDR record (a hotel room-status message, a header).
    init?(line rawLine: String, layout: SMDRLayout) {
        let line = Array(rawLine.trimmingCharacters(in: CharacterSet(charactersIn: "\r\n")))
        guard line.count >= layout.thirdParty.offset + layout.thirdParty.width else { return nil }
        func field(_ field: SMDRLayout.Field) -> String {
            guard field.offset < line.count else { return "" }
            return String(line[field.offset..<min(line.count, field.offset + field.width)]).trimmingCharacters(in: .whitespaces)
        }
        // Digits only: Int("-1") or Int("+5") would accept a sign, and a duration of -1:00:00 is no record.
        func number(_ text: Substring) -> Int? {
            !text.isEmpty && text.count <= 4 && text.allSatisfy({ $0.isASCII && $0.isNumber }) ? Int(text) : nil
        }
        // Date mm/dd, time hh:mm with an optional p (12-hour clock), duration hh:mm:ss: any mismatch is not a record.
        let date = field(layout.date).split(separator: "/")
        guard date.count == 2, let month = number(date[0]), let day = number(date[1]), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var time = field(layout.startTime)
        let pm = time.last == "p" || time.last == "P"
        if pm { time.removeLast() }
        let clock = time.split(separator: ":")
        guard clock.count == 2, var hour = number(clock[0]), let minute = number(clock[1]), (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        if pm && hour < 12 { hour += 12 }
        let duration = field(layout.duration).split(separator: ":")
        guard duration.count == 3, let hours = number(duration[0]), let minutes = number(duration[1]), let seconds = number(duration[2]) else { return nil }
        let long = line[layout.longCall.offset]
        guard [" ", "-", "%", "+"].contains(long) else { return nil }
        self.longCall = long == " " ? nil : long
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        // 99:99:99 means 100 hours or more.
        self.durationSeconds = hours * 3600 + min(minutes, 59) * 60 + min(seconds, 59)
        callingParty = field(layout.callingParty)
        attendant = field(layout.attendant) == "*"
        let answer = field(layout.timeToAnswer)
        unanswered = answer == "***"
        timeToAnswer = number(Substring(answer))
        digitsDialed = field(layout.digitsDialed)
        completion = field(layout.completion).first
        calledParty = field(layout.calledParty)
        let transferFlag = field(layout.transfer).first
        transfer = transferFlag.flatMap { ["T", "X", "C"].contains($0) ? $0 : nil }
        thirdParty = field(layout.thirdParty)
        if layout.aniDNIS {
            ani = field(layout.ani).nilIfEmpty
            dnis = field(layout.dnis).nilIfEmpty
        }
        if layout.networkFormat { callID = field(layout.callID).nilIfEmpty }
    }

    /// Trunks show as `T` followed by the trunk number (`X` for a network trunk); stations are digits.
    static func isTrunk(_ party: String) -> Bool {
        guard let first = party.first else { return false }
        return first == "T" || first == "X"
    }

    static func isStation(_ party: String) -> Bool {
        !party.isEmpty && party.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A station-to-station call (internal SMDR records): no client is on the line, so it is not logged.
    var isInternal: Bool { Self.isStation(callingParty) && Self.isStation(calledParty) && ani == nil }

    /// Inbound when the call came in on a trunk; outbound when a station called out on one.
    var direction: Direction { Self.isTrunk(callingParty) || (!Self.isStation(callingParty) && Self.isStation(calledParty)) ? .inbound : .outbound }

    var outcome: CallOutcome {
        switch completion {
        case "B"?: .busy
        case "E"?: .failed
        default: unanswered ? .missed : .answered
        }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension SMDRRecord {
    /// When the call started: the record's local date and time in `timeZone`, in the latest year that does not
    /// put the call in the future (the record carries no year).
    func start(in timeZone: TimeZone, now: Date = Date()) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let thisYear = calendar.component(.year, from: now)
        // A little slack for a PBX clock slightly ahead of ours.
        let latest = now.addingTimeInterval(15 * 60)
        for year in stride(from: thisYear + 1, through: thisYear - 8, by: -1) {
            let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
            guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { continue }
            if date <= latest { return date }
        }
        return nil
    }

    /// The call's normalised events: ringing at the start, answered (and a second answer for a transfer), ended.
    ///
    /// - Parameter linkID: the SMDR link, so that call ids are unique per PBX; without a network call id, the id
    ///   is a hash of the line, so that a record read twice is one call.
    func events(start: Date, linkID: UUID, line: String) -> [PhoneCallEvent] {
        let digest = SHA256.hash(data: Data("\(linkID.uuidString.lowercased())\n\(line.trimmingCharacters(in: .whitespacesAndNewlines))".utf8))
        let id = self.callID.map { "\(linkID.uuidString.lowercased().prefix(8))-\($0)" } ?? digest.prefix(12).map { String(format: "%02x", $0) }.joined()
        let inbound = direction == .inbound
        let external: String? = inbound ? (ani ?? (Self.isTrunk(callingParty) ? nil : callingParty.nilIfEmpty)) : digitsDialed.nilIfEmpty
        let practiceNumber: String? = inbound ? dnis : nil
        let station = inbound ? calledParty : callingParty
        let handler = Self.isStation(station) ? station : nil
        let from = inbound ? external : practiceNumber
        let to = inbound ? practiceNumber : external
        let answerDelay = inbound ? (timeToAnswer ?? 0) : 0
        let answeredAt = start.addingTimeInterval(TimeInterval(answerDelay))
        let endedAt = (outcome == .answered ? answeredAt : start).addingTimeInterval(TimeInterval(durationSeconds))
        var events = [PhoneCallEvent(source: "mitel-smdr", callID: id, seq: 1, kind: .ringing, direction: direction, from: from, to: to,
                                     phoneExtension: outcome == .answered ? nil : handler, occurredAt: start)]
        if outcome == .answered {
            events.append(PhoneCallEvent(source: "mitel-smdr", callID: id, seq: 2, kind: .answered, direction: direction, from: from, to: to,
                                         phoneExtension: handler, occurredAt: answeredAt))
            if transfer == "T" || transfer == "X", Self.isStation(thirdParty) {
                events.append(PhoneCallEvent(source: "mitel-smdr", callID: id, seq: 3, kind: .answered, direction: direction, from: from, to: to,
                                             phoneExtension: thirdParty, occurredAt: answeredAt))
            }
        }
        events.append(PhoneCallEvent(source: "mitel-smdr", callID: id, seq: 4, kind: .ended, direction: direction, from: from, to: to,
                                     outcome: outcome, durationSeconds: durationSeconds, occurredAt: endedAt))
        return events
    }
}
