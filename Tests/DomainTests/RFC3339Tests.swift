import Foundation
import Testing

@testable import CommlogDomain

/// The hand-written RFC 3339 parser and formatter agree with Foundation and with themselves.
@Suite struct RFC3339Tests {
    @Test(arguments: [
        "2026-11-25T09:30:00Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2024-02-29T12:00:00+14:00",
        "1999-12-31T23:59:59-12:00", "2038-01-19T03:14:08Z", "2100-03-01T00:00:00+05:30", "1900-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ])
    func agreesWithFoundation(string: String) throws {
        let foundation = try Date.ISO8601FormatStyle().parse(string)
        #expect(RFC3339.date(from: string) == foundation)
    }

    @Test(arguments: [
        "2026-11-25", "2026-11-25T09:30:00", "2026-11-25 09:30:00Z", "2026-11-25T09:30Z", "2026-11-25T09:30:00.Z",
        "2026-11-25T09:30:00+1000", "2026-11-25T09:30:00+10", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T09:60:00Z", "2026-11-25T09:30:61Z", "2026-11-25T09:30:00Zjunk", "26-11-25T09:30:00Z",
        "2026-11-25T09:30:00+24:00", "２０２６-11-25T09:30:00Z", "", "yesterday",
    ])
    func refuses(string: String) {
        #expect(RFC3339.date(from: string) == nil)
    }

    @Test func fractionsBeyondMicrosecondsAreRounded() throws {
        let base = try #require(RFC3339.date(from: "2026-11-25T09:30:00Z"))
        #expect(RFC3339.date(from: "2026-11-25T09:30:00.1234564Z") == RFC3339.normalized(base.addingTimeInterval(0.123_456)))
        #expect(RFC3339.date(from: "2026-11-25T09:30:00.1234565Z") == RFC3339.normalized(base.addingTimeInterval(0.123_457)))
        #expect(RFC3339.date(from: "2026-11-25T09:30:59.9999999Z") == base.addingTimeInterval(60))
    }

    @Test func leapSecondRollsIntoTheNextMinute() {
        #expect(RFC3339.date(from: "2016-12-31T23:59:60Z") == RFC3339.date(from: "2017-01-01T00:00:00Z"))
    }

    @Test(arguments: [
        (1_795_599_000.0, "2026-11-25T09:30:00.000Z"),
        (1_795_599_000.25, "2026-11-25T09:30:00.250Z"),
        (1_795_599_000.000_001, "2026-11-25T09:30:00.000001Z"),
        (1_795_599_000.123_456_1, "2026-11-25T09:30:00.123456Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-0.5, "1969-12-31T23:59:59.500Z"),
        (951_868_800, "2000-03-01T00:00:00.000Z"),
    ])
    func formatsInUTCWithFractionalSeconds(seconds: Double, expected: String) {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func formattedDatesParseBackExactly() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            // Between 1970 and 2100, with sub-microsecond noise.
            let date = RFC3339.normalized(Date(timeIntervalSince1970: Double.random(in: 0..<4_102_444_800, using: &generator)))
            let string = RFC3339.string(from: date)
            try #require(RFC3339.date(from: string) == date, "\(string)")
        }
    }

    @Test func normalizingIsIdempotent() {
        let date = Date(timeIntervalSince1970: 1_795_599_000.987_654_321)
        let once = RFC3339.normalized(date)
        #expect(RFC3339.normalized(once) == once)
        #expect(abs(once.timeIntervalSince(date)) < 0.000_001)
    }
}
