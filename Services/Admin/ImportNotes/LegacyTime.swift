import CommlogDomain
import Foundation

/// The ISO 8601 times a legacy export writes, read as the organisation sees them.
///
/// Accepted: `2019-03-04T10:15:00Z`, with an offset (`+10:00`, `+1000`, `+10`), with fractional seconds, with a space
/// instead of the `T` (as SQL clients print a `datetime`), without seconds, or a date alone (midnight). A time
/// without an offset is the organisation's wall-clock time: old practice systems (OpenVPMS on MySQL among them)
/// keep local times without a zone. A wall-clock time that a change to summer time skipped is read with the
/// offset before the change; one that the change back repeats, as the first of the two.
struct LegacyTime {
    let timeZone: TimeZone

    func date(from text: String) -> Date? {
        var bytes = Array(text.utf8)
        guard bytes.count >= 10 else { return nil }
        if bytes.count == 10 { bytes += Array("T00:00:00".utf8) }
        if bytes[10] == UInt8(ascii: " ") { bytes[10] = UInt8(ascii: "T") }
        // Without seconds: 2019-03-04T10:15, perhaps with an offset after it.
        if bytes.count == 16 || (bytes.count > 16 && [UInt8(ascii: "Z"), UInt8(ascii: "z"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[16])) {
            bytes.insert(contentsOf: Array(":00".utf8), at: 16)
        }
        guard bytes.count >= 19 else { return nil }
        // Where the offset starts, if there is one (after the seconds and any fraction).
        var end = 19
        if end < bytes.count, bytes[end] == UInt8(ascii: ".") {
            end += 1
            while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
        }
        if end == bytes.count {
            guard let wallClock = RFC3339.date(from: String(decoding: bytes + [UInt8(ascii: "Z")], as: UTF8.self)) else { return nil }
            return local(wallClock)
        }
        // +HHMM and +HH as +HH:MM.
        if bytes[end] == UInt8(ascii: "+") || bytes[end] == UInt8(ascii: "-") {
            let offset = bytes.count - end - 1
            if offset == 4 { bytes.insert(UInt8(ascii: ":"), at: end + 3) }
            if offset == 2 { bytes += Array(":00".utf8) }
        }
        return RFC3339.date(from: String(decoding: bytes, as: UTF8.self))
    }

    /// The instant at which the organisation's clocks showed `wallClock` (read as if it were UTC).
    private func local(_ wallClock: Date) -> Date {
        // The offsets a day either side: one unless a change of clocks lies in between.
        let before = timeZone.secondsFromGMT(for: wallClock.addingTimeInterval(-86_400))
        let after = timeZone.secondsFromGMT(for: wallClock.addingTimeInterval(86_400))
        guard before != after else { return wallClock.addingTimeInterval(-Double(before)) }
        // The instants that show this wall-clock time: two in a repeated hour (the first wins), none in a skipped one.
        let instants = [before, after].map { wallClock.addingTimeInterval(-Double($0)) }
            .filter { Double(timeZone.secondsFromGMT(for: $0)) == wallClock.timeIntervalSince($0) }
        return instants.min() ?? wallClock.addingTimeInterval(-Double(before))
    }
}
