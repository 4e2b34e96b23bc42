import CommlogDomain
import Foundation
import PostgresNIO
import Testing

@testable import LogStore

/// The rows the writer hands to `jsonb_to_recordset` are the entries' `Codable` JSON, written by hand.
@Suite struct RowsJSONTests {
    static let awkwardText = "\"quoted\"\n\ttabbed\\ \u{01}\u{1F} é 中文 🐈‍⬛ </script>"

    static let entries = [
        NewCommunication(
            organisationID: "org-1", type: .email, direction: .outbound, status: .closed,
            occurredAt: RFC3339.normalized(Date(timeIntervalSince1970: 1_795_599_000.123_456)),
            answeredAt: Date(timeIntervalSince1970: 1_795_599_001), endedAt: Date(timeIntervalSince1970: 1_795_599_002),
            closedAt: Date(timeIntervalSince1970: 1_795_599_003), clientID: "c-1", patientID: "p-1", locationID: "loc-1",
            authorStaffID: "s-1", reason: "AD_HOC_EMAIL", address: "client@example.org", subject: awkwardText,
            description: "d", notes: "a.pdf", content: String(repeating: awkwardText, count: 100), source: .practice,
            sourceRef: "evt-1", template: "t", reminderType: "Vaccination", reminderCount: -3, showInPatientHistory: true,
            participants: [
                Participant(role: .from, kind: .staff, id: "s-1", address: "vet@example.org", name: awkwardText),
                .external(.to, address: "client@example.org"),
            ],
            attachments: [
                NewAttachment(name: "a.pdf", contentType: "application/pdf", size: 3, sha256: "abc", content: [0, 1, 255],
                              documentOwner: .patient, documentID: "p-1"),
                NewAttachment(name: "b.txt", contentType: "text/plain", size: 0),
            ]
        ),
        NewCommunication(organisationID: "org-1", type: .note, direction: nil, occurredAt: Date(timeIntervalSince1970: 0), source: .manual, sourceRef: "n-1"),
    ]

    /// The JSON with each attachment's `content_index` replaced by its bytes, base64 under `content`, as `Codable` writes them.
    static func withContents(_ rows: (json: String, contents: [ByteBuffer])) throws -> Data {
        var entries = try #require(try JSONSerialization.jsonObject(with: Data(rows.json.utf8)) as? [[String: Any]])
        for (index, entry) in entries.enumerated() {
            let attachments = try #require(entry["attachments"] as? [[String: Any]])
            entries[index]["attachments"] = try attachments.map { attachment in
                var attachment = attachment
                let position = attachment.removeValue(forKey: "content_index")
                if let position = position as? Int {
                    let bytes = try #require(rows.contents.indices.contains(position - 1) ? rows.contents[position - 1] : nil, "content_index \(position) of \(rows.contents.count)")
                    attachment["content"] = Data(bytes.readableBytesView).base64EncodedString()
                } else {
                    #expect(position is NSNull, "an attachment without content has content_index null")
                    attachment["content"] = NSNull()
                }
                return attachment
            }
        }
        return try JSONSerialization.data(withJSONObject: entries)
    }

    @Test("the JSON holds every key of the entries' Codable form, and their attachments' bytes are the binary parameter it points into")
    func sameValuesAsCodable() throws {
        let rows = CommunicationWriter.rows(Self.entries)
        #expect(rows.contents.count == 1)
        let written = try Self.withContents(rows)
        #expect(try ContractCoding.makeDecoder().decode([NewCommunication].self, from: written) == Self.entries)
        // Every key, null ones included: `jsonb_to_recordset` reads them by name.
        func canonical(_ json: Data) throws -> Data {
            try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: json), options: [.sortedKeys])
        }
        #expect(try canonical(written) == canonical(ContractCoding.makeEncoder().encode(Self.entries)))
    }
}
