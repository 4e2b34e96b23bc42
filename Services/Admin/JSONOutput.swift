import Foundation

/// `--json` output of the list commands: one JSON array of objects, keys sorted, dates in RFC 3339, for scripts.
enum JSONOutput {
    static func print(_ rows: [[String: Any?]]) throws {
        let objects = rows.map { row in row.mapValues { value -> Any in
            switch value {
            case nil: NSNull()
            case let date as Date: date.formatted(.iso8601)
            case let id as UUID: id.uuidString.lowercased()
            case let value?: value
            }
        } }
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .withoutEscapingSlashes])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
