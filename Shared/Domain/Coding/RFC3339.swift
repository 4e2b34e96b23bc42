import Foundation

/// RFC 3339 date-times as the contract writes them, parsed and formatted without a formatter object.
///
/// Hand-written rather than `ISO8601FormatStyle` because the ingest path parses several dates per
/// event at 10k+ events/s, and one grammar ("with or without fractional seconds, `Z` or an offset")
/// would otherwise take two format styles tried in turn. Precision is the microsecond, as in PostgreSQL.
public enum RFC3339 {
    /// Parses `2026-11-25T09:30:00Z`, `2026-11-25T19:30:00.25+10:00` and the like; `nil` if it is not RFC 3339.
    public static func date(from string: String) -> Date? {
        var string = string
        return string.withUTF8 { parse($0) }
    }

    /// Formats in UTC with fractional seconds: milliseconds when they suffice, microseconds otherwise.
    public static func string(from date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        write(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the date as `string(from:)` formats it (`2026-11-25T09:30:00.250Z`).
    public static func write(_ date: Date, to bytes: inout [UInt8]) {
        let (seconds, micros) = floorDivision(microsecondsSince1970(date), 1_000_000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        append(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        append(secondOfDay / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        if micros % 1000 == 0 {
            append(micros / 1000, width: 3, to: &bytes)
        } else {
            append(micros, width: 6, to: &bytes)
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The date rounded to the microsecond, so that it survives a trip through the contract unchanged.
    public static func normalized(_ date: Date) -> Date {
        makeDate(microsecondsSince1970: microsecondsSince1970(date))
    }

    // MARK: - Parsing

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        // The shortest form is "2026-11-25T09:30:00Z".
        guard b.count >= 20,
            let year = digits(b, 0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(b, 5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(b, 8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = digits(b, 11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(b, 14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(b, 17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour <= 23, minute <= 59, second <= 60  // 60: a leap second, which rolls into the next minute
        else { return nil }

        var index = 19
        var micros: Int64 = 0
        if b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            var roundUp = false
            while index < b.count, let digit = digit(b[index]) {
                switch index - start {
                case 0..<6: micros = micros * 10 + Int64(digit)
                case 6: roundUp = digit >= 5
                default: break
                }
                index += 1
            }
            let count = index - start
            guard count > 0 else { return nil }
            for _ in count..<max(count, 6) { micros *= 10 }
            if roundUp { micros += 1 }
        }

        guard index < b.count else { return nil }
        var offsetSeconds = 0
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard b.count - index >= 6,
                let offsetHour = digits(b, index + 1, 2), b[index + 3] == UInt8(ascii: ":"),
                let offsetMinute = digits(b, index + 4, 2), offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = (offsetHour * 60 + offsetMinute) * 60
            if b[index] == UInt8(ascii: "-") { offsetSeconds = -offsetSeconds }
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }

        let days = Int64(days(fromCivilYear: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return makeDate(microsecondsSince1970: seconds * 1_000_000 + micros)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte &- UInt8(ascii: "0")) : nil
    }

    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            guard let digit = digit(b[index]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: - Calendar arithmetic (Howard Hinnant's days-from-civil algorithms)

    private static func days(fromCivilYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    // MARK: - Microseconds

    /// Seconds between 1970 and 2001; `Date` counts from 2001, so this offset is applied in integers.
    private static let referenceOffset: Int64 = 978_307_200

    private static func microsecondsSince1970(_ date: Date) -> Int64 {
        let micros = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
        let clamped = Int64(exactly: micros) ?? (micros < 0 ? -(1 << 62) : 1 << 62)
        return clamped + referenceOffset * 1_000_000
    }

    private static func makeDate(microsecondsSince1970 micros: Int64) -> Date {
        // One correctly rounded division, so that formatting the result gives back the same microseconds.
        Date(timeIntervalSinceReferenceDate: Double(micros - referenceOffset * 1_000_000) / 1_000_000)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    private static func append(_ value: some BinaryInteger, width: Int, to bytes: inout [UInt8]) {
        var value = Int(value)
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            value = -value
        }
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
            value /= 10
        } while value > 0
        while bytes.count - start < width { bytes.append(UInt8(ascii: "0")) }
        bytes[start...].reverse()
    }
}
