import CommlogDomain
import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Names next to ids, as the directory has them now, in lists and entries.
@Suite("query-api: names")
struct NamesTests {
    @Test("list items and entries carry the client's, patient's, location's, author's and participants' names and the reason's label; a rename shows; unknown ids give null")
    func names() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                for statement: PostgresQuery in [
                    "INSERT INTO clients (organisation_id, id, name) VALUES (\(org), 'c-1', 'Ann Smith')",
                    "INSERT INTO patients (organisation_id, id, client_id, name) VALUES (\(org), 'p-1', 'c-1', 'Bella')",
                    "INSERT INTO locations (organisation_id, id, name) VALUES (\(org), 'loc-1', 'Main Street clinic')",
                    "INSERT INTO staff (organisation_id, id, name) VALUES (\(org), 's-1', 'Dr Lee')",
                    "INSERT INTO connections (organisation_id, id, client_id, name) VALUES (\(org), 'k-1', 'c-1', 'Tom Smith')",
                    "INSERT INTO reasons (organisation_id, code, name) VALUES (\(org), 'SURGERY_FOLLOW_UP', 'Surgery follow-up')",
                ] {
                    try await connection.query(statement, logger: database.logger)
                }
            }
            let participants = [
                Participant(role: .from, kind: .staff, id: "s-1", address: "lee@clinic.example", name: "lee"),
                Participant(role: .to, kind: .client, id: "c-1", address: "ann@example.org", name: "A. Smith"),
                Participant(role: .cc, kind: .connection, id: "k-1", address: "tom@example.org", name: nil),
                Participant(role: .bcc, kind: .external, id: nil, address: "x@elsewhere.example", name: "Someone Else"),
            ]
            let known = NewCommunication(
                organisationID: org, type: .email, direction: .outbound, occurredAt: Date(), clientID: "c-1", patientID: "p-1",
                locationID: "loc-1", authorStaffID: "s-1", reason: "SURGERY_FOLLOW_UP", subject: "Bella's stitches", source: .practice,
                sourceRef: "known", participants: participants
            )
            let unknown = NewCommunication(
                organisationID: org, type: .sms, direction: .outbound, occurredAt: Date().addingTimeInterval(-60), clientID: "c-404",
                patientID: "p-404", locationID: "loc-404", authorStaffID: "s-404", reason: .adHocSMS, source: .practice, sourceRef: "unknown",
                participants: [Participant(role: .to, kind: .client, id: "c-404", address: "+61400000000", name: nil)]
            )
            let ids = try await api.insert([known, unknown], database: database)
            let manager = try await api.token("m-1", [.manager])

            let list = try await api.get("/v1/communications", token: manager, query: ["location_id": "loc-1"])
            #expect(list.status == 200, "\(list.detail)")
            let item = try #require(list.items.first { $0["id"] as? String == ids["known"] })
            #expect(item["client_name"] as? String == "Ann Smith")
            #expect(item["patient_name"] as? String == "Bella")
            #expect(item["location_name"] as? String == "Main Street clinic")
            #expect(item["author_name"] as? String == "Dr Lee")
            #expect(item["reason_label"] as? String == "Surgery follow-up")
            let names = (item["participants"] as? [[String: Any]] ?? []).map { $0["name"] as? String }
            #expect(names == ["Dr Lee", "Ann Smith", "Tom Smith", "Someone Else"])

            // Unknown to the directory: null, never an error; the standard reason still has its label.
            let other = try await api.get("/v1/communications/\(try #require(ids["unknown"]))", token: manager)
            #expect(other.status == 200, "\(other.detail)")
            for key in ["client_name", "patient_name", "location_name", "author_name"] { #expect(other.json[key] is NSNull, "\(key)") }
            #expect(other.json["reason_label"] as? String == "Ad-hoc SMS")
            #expect(((other.json["participants"] as? [[String: Any]])?.first?["name"]) is NSNull)

            // A rename shows at once, in the entry and in the list.
            try await database.withTenant(org) { connection in
                try await connection.query("UPDATE clients SET name = 'Ann Jones' WHERE organisation_id = \(org) AND id = 'c-1'", logger: database.logger)
            }
            let renamed = try await api.get("/v1/communications/\(try #require(ids["known"]))", token: manager)
            #expect(renamed.json["client_name"] as? String == "Ann Jones")
            #expect(((renamed.json["participants"] as? [[String: Any]])?[1]["name"]) as? String == "Ann Jones")
            let relisted = try await api.get("/v1/communications", token: manager, query: ["client_id": "c-1"])
            #expect(relisted.items.first?["client_name"] as? String == "Ann Jones")
            await api.stop()
        }
    }
}
