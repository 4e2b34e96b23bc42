import Foundation
import Testing

@testable import QueryAPI

@Suite struct PageCursorTests {
    @Test("a cursor is base64url without padding and reads back as the same position", arguments: [
        Int64(0), 1, 1_795_599_000_123_456, -1_000_000, PageCursor.latestMicroseconds, PageCursor.earliestMicroseconds,
    ])
    func roundTrip(micros: Int64) throws {
        // Many ids, so that the encodings cover the base64 characters that base64url replaces.
        for _ in 0..<200 {
            let cursor = PageCursor(occurredAtMicroseconds: micros, id: UUID())
            let text = cursor.encoded
            #expect(!text.contains { "+/=".contains($0) })
            #expect(PageCursor(encoded: text) == cursor)
        }
    }

    @Test("text that is not a cursor this API handed out is refused", arguments: [
        "", "not a cursor", "djEuMS5ub3QtYS11dWlk", String(repeating: "A", count: 201), "djIuMS4wMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA",
    ])
    func refused(text: String) {
        #expect(PageCursor(encoded: text) == nil)
    }

    @Test("a position PostgreSQL cannot store (a tampered cursor) is refused, not handed to the database")
    func outOfRange() {
        for micros in [Int64.max, Int64.min, PageCursor.latestMicroseconds + 1, PageCursor.earliestMicroseconds - 1] {
            let text = Data("v1.\(micros).\(UUID().uuidString.lowercased())".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(PageCursor(encoded: text) == nil, "\(micros)")
        }
    }
}
