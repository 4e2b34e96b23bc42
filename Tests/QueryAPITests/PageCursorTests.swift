import Crypto
import Foundation
import Testing

@testable import QueryAPI

@Suite struct PageCursorTests {
    let signer = PageCursorSigner(key: SymmetricKey(size: .bits256))

    @Test("a cursor is base64url without padding and reads back as the same position", arguments: [
        Int64(0), 1, 1_795_599_000_123_456, -1_000_000, PageCursor.latestMicroseconds, PageCursor.earliestMicroseconds,
    ])
    func roundTrip(micros: Int64) async throws {
        // Many ids, so that the encodings cover the base64 characters that base64url replaces.
        for _ in 0..<200 {
            let cursor = PageCursor(occurredAtMicroseconds: micros, id: UUID())
            let text = try await cursor.encoded(signedBy: signer, organisationID: "org-1")
            #expect(!text.contains { "+/=".contains($0) })
            #expect(try await PageCursor(encoded: text, signedBy: signer, organisationID: "org-1") == cursor)
        }
    }

    @Test("text that is not a cursor this API handed out is refused", arguments: [
        "", "not a cursor", "djEuMS5ub3QtYS11dWlk", String(repeating: "A", count: 201), "djIuMS4wMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA",
    ])
    func refused(text: String) async throws {
        #expect(try await PageCursor(encoded: text, signedBy: signer, organisationID: "org-1") == nil)
    }

    @Test("a cursor is taken back only unaltered, in its organisation, under the key that signed it")
    func signature() async throws {
        let cursor = PageCursor(occurredAtMicroseconds: 1_795_599_000_123_456, id: UUID())
        let text = try await cursor.encoded(signedBy: signer, organisationID: "org-1")
        #expect(try await PageCursor(encoded: text, signedBy: signer, organisationID: "org-2") == nil)
        #expect(try await PageCursor(encoded: text, signedBy: PageCursorSigner(key: SymmetricKey(size: .bits256)), organisationID: "org-1") == nil)
        let data = try #require(Self.decode(text))
        let parts = String(decoding: data, as: UTF8.self).split(separator: ".").map(String.init)
        try #require(parts.count == 4)
        for altered in [
            [parts[0], "1795599000123457", parts[2], parts[3]],
            [parts[0], parts[1], UUID().uuidString.lowercased(), parts[3]],
            [parts[0], parts[1], parts[2], String(parts[3].reversed())],
            [parts[0], parts[1], parts[2], ""],
        ] {
            #expect(try await PageCursor(encoded: Self.encode(altered.joined(separator: ".")), signedBy: signer, organisationID: "org-1") == nil)
        }
    }

    @Test("a position PostgreSQL cannot store (a tampered cursor) is refused, not handed to the database")
    func outOfRange() async throws {
        for micros in [Int64.max, Int64.min, PageCursor.latestMicroseconds + 1, PageCursor.earliestMicroseconds - 1] {
            let id = UUID()
            let signature = try await signer.signature(of: PageCursor(occurredAtMicroseconds: 0, id: id).signedText(organisationID: "org-1"))
            let text = Self.encode("v2.\(micros).\(id.uuidString.lowercased()).\(signature)")
            #expect(try await PageCursor(encoded: text, signedBy: signer, organisationID: "org-1") == nil, "\(micros)")
        }
    }

    static func encode(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
