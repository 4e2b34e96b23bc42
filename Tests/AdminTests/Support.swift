import CommlogDomain
import Foundation

/// A file of the tests' own with `content`, named `…-name` in the temporary folder.
func temporaryFile(_ name: String, _ content: String) throws -> String {
    let path = NSTemporaryDirectory() + "\(UUID().uuidString)-\(name)"
    try content.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// An RFC 3339 time written in a test.
func utc(_ text: String) -> Date { RFC3339.date(from: text)! }
