import CommlogDomain
import CommlogRuntime
import Foundation
import OpenAPIRuntime

/// Dates as the contract writes them: RFC 3339, with or without fractional seconds, `Z` or an offset.
/// (The runtime's default accepts only whole seconds, which would turn a valid `from` into a 400.)
struct RFC3339DateTranscoder: DateTranscoder {
    struct InvalidDate: Error, CustomStringConvertible {
        let text: String
        var description: String { "expected an RFC 3339 date-time such as 2026-11-25T09:30:00Z (got \(Problem.quoted(text)))" }
    }

    func encode(_ date: Date) throws -> String { RFC3339.string(from: date) }

    func decode(_ text: String) throws -> Date {
        guard let date = RFC3339.date(from: text) else { throw InvalidDate(text: text) }
        return date
    }
}
