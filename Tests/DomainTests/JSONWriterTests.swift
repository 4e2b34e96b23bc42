import Foundation
import Testing

@testable import CommlogDomain

/// The hand-written JSON writer writes what `JSONEncoder` (configured as the contract's) writes, value for value.
@Suite struct JSONWriterTests {
    /// Text with every character JSON must escape, and some it must not.
    static let awkwardText = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        + "\"quoted\" back\\slash /slash é ü 中文 🐈‍⬛ \u{2028} end"

    @Test(arguments: ["", "plain", awkwardText, "\\", "\"", "\u{7F}", String(repeating: "long line ", count: 500)])
    func strings(text: String) throws {
        var json = JSONWriter()
        json.string(text)
        #expect(try JSONDecoder().decode(String.self, from: Data(json.bytes)) == text)
    }

    @Test(arguments: [0, 1, -1, 9, 10, 42, -4_200, Int.max, Int.min])
    func numbers(value: Int) throws {
        var json = JSONWriter()
        json.number(value)
        #expect(String(decoding: json.bytes, as: UTF8.self) == String(value))
    }

    @Test(arguments: [0.0, 0.25, 0.000_001, 0.123_456, -0.5, 1_000_000_000.001])
    func dates(offset: Double) throws {
        let date = RFC3339.normalized(exampleInstant.addingTimeInterval(offset))
        var json = JSONWriter()
        json.date(date)
        #expect(json.bytes == Array(try ContractCoding.makeEncoder().encode(date)))
    }

    @Test func uuids() throws {
        for _ in 0..<100 {
            let id = UUID()
            var json = JSONWriter()
            json.uuid(id)
            #expect(String(decoding: json.bytes, as: UTF8.self) == "\"\(id.uuidString.lowercased())\"")
        }
    }

    @Test func nullsAndBooleans() {
        var json = JSONWriter()
        json.raw("[")
        json.string(nil as String?)
        json.raw(","); json.number(nil)
        json.raw(","); json.date(nil)
        json.raw(","); json.uuid(nil)
        json.raw(","); json.bool(nil)
        json.raw(","); json.bool(true)
        json.raw(","); json.bool(false)
        json.raw("]")
        #expect(String(decoding: json.bytes, as: UTF8.self) == "[null,null,null,null,null,true,false]")
    }

    @Test func communicationChangedEvents() throws {
        for staffIDs in [[], ["s-1"], ["s-1", Self.awkwardText]] {
            let event = EventEnvelope(
                type: .communicationLogged, organisationID: "org-\"1\"",
                data: CommunicationChanged(communicationID: UUID(), type: .sms, status: .open, clientID: staffIDs.first, staffIDs: staffIDs),
                occurredAt: exampleInstant.addingTimeInterval(0.123_456)
            )
            let written = try event.encoded()
            #expect(try sameJSON(written, Array(ContractCoding.makeEncoder().encode(event))))
            if staffIDs.contains(where: { $0.contains("\u{0}") }) {
                // Written faithfully, but refused when read: PostgreSQL's text cannot hold NUL.
                #expect(throws: EventDecodingError.self) { try decode(String(decoding: written, as: UTF8.self)) }
            } else {
                #expect(try decode(String(decoding: written, as: UTF8.self)) == .communicationLogged(event))
            }
        }
    }

    @Test func participants() throws {
        for participant in [
            Participant(role: .from, kind: .staff, id: "s-1", address: "vet@example.org", name: Self.awkwardText),
            .external(.to, address: "someone@example.org"),
        ] {
            var json = JSONWriter()
            participant.write(to: &json)
            #expect(try sameJSON(json.bytes, Array(ContractCoding.makeEncoder().encode(participant))))
        }
    }
}

/// Whether two JSON texts hold the same values (key order and spacing aside): both re-serialised with sorted keys.
func sameJSON(_ a: [UInt8], _ b: [UInt8]) throws -> Bool {
    func canonical(_ bytes: [UInt8]) throws -> Data {
        let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    }
    return try canonical(a) == canonical(b)
}
