import CommlogDomain
import Foundation
import LogStore
import NIOCore
import Testing

@testable import QueryAPI

/// The list page written by `EntryPageWriter` (the hot path) is the JSON `Codable` gives the same page.
@Suite struct EntryPageWriterTests {
    static let awkwardText = "\"quoted\"\n\ttabbed\\ \u{01}\u{1F} é 中文 🐈‍⬛ </script>"

    static let full = EntrySummary(
        entry: StoredEntry(
            id: UUID(), type: .phone, direction: .inbound, status: .closed,
            occurredAt: RFC3339.normalized(Date(timeIntervalSince1970: 1_795_599_000.123_456)),
            claimedAt: Date(timeIntervalSince1970: 1_795_599_100), answeredAt: Date(timeIntervalSince1970: 1_795_599_001.5),
            endedAt: Date(timeIntervalSince1970: 1_795_599_061), closedAt: Date(timeIntervalSince1970: 1_795_599_062), outcome: .answered,
            durationSeconds: 60, clientID: "c-1", patientID: "p-1", locationID: "loc-1", authorStaffID: "s-1", reason: "CALL",
            address: "+61412345678", subject: awkwardText, description: "d", notes: String(repeating: awkwardText, count: 20), source: .phone,
            template: "t", reminderType: "r", reminderCount: 3, ambiguous: true, showInPatientHistory: true, printInPatientHistory: true,
            version: 7,
            participants: [
                Participant(role: .handler, kind: .staff, id: "s-1", address: "201", name: awkwardText),
                .external(.caller, address: "+61412345678"),
            ]
        ),
        hasRecording: true,
        names: EntryNames(client: "Ann Smith", patient: awkwardText, location: "Main Street", author: "Dr Lee", reason: "Call")
    )

    static let sparse = EntrySummary(
        entry: StoredEntry(id: UUID(), type: .note, occurredAt: Date(timeIntervalSince1970: 0), source: .manual), hasRecording: false
    )

    @Test(arguments: [nil, "eyJvIjoxfQ"])
    func sameAsCodable(nextCursor: String?) throws {
        let written = EntryPageWriter.page([Self.full, Self.sparse], nextCursor: nextCursor)
        let encoded = try ContractCoding.makeEncoder().encode(EntryPageJSON(items: [Self.full, Self.sparse], nextCursor: nextCursor))
        func canonical(_ json: Data) throws -> Data {
            try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: json), options: [.sortedKeys])
        }
        #expect(try canonical(Data(written.readableBytesView)) == canonical(encoded))
    }
}
