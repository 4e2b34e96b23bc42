import CommlogDomain
import Foundation
import LogStore
import PostgresNIO
import Testing
import TestSupport

@Suite("reminder-logger: directory")
struct DirectoryTests {
    @Test("an entry for a client the directory does not know yet is logged and resolves when the client arrives")
    func outOfOrderDirectory() async throws {
        try await PracticeHarness.run { harness in
            // Sent before the directory knows c-9 or its address.
            try await harness.publish(.emailSent, EmailSent(clientID: nil, from: "clinic@clinic.example", to: ["new@example.org"], subject: "Welcome", bodyText: "Hello"))
            let before = try #require(try await harness.entries(count: 1).first)
            #expect(before.clientID == nil)
            #expect(before.participants.last == Participant(role: .to, kind: .external, address: "new@example.org"))

            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-9", name: "New Client", emails: ["new@example.org"]))
            let after = try await harness.entries { $0.first?.clientID == "c-9" }
            #expect(after.first?.clientID == "c-9")
            #expect(after.first?.participants.last == Participant(role: .to, kind: .client, id: "c-9", address: "new@example.org"))
        }
    }

    @Test("events that overtake their organisation's upsert (another replica still commits it) wait for it and are logged")
    func organisationArrivesLate() async throws {
        try await PracticeHarness.run(createOrganisation: false, prerequisiteWait: .seconds(30)) { harness in
            let early = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61412345678", text: "before the organisation"))
            try await Task.sleep(for: .milliseconds(700))
            try await harness.publish(.organisationUpserted, OrganisationUpserted(name: "Late practice"))
            let entries = try await harness.entries(count: 1)
            #expect(entries.map(\.sourceRef) == [early])
        }
    }

    @Test("a deleted staff member is no longer related to their clients; a delete older than the last upsert changes nothing")
    func deletedStaff() async throws {
        try await PracticeHarness.run { harness in
            let now = Date()
            try await harness.publish(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Dr Lee", email: "lee@clinic.example"), at: now)
            try await harness.publish(.staffUpserted, StaffUpserted(staffID: "s-2", name: "Dr Kim", email: "kim@clinic.example"), at: now)
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", relatedStaffIDs: ["s-1", "s-2"]), at: now)
            try await harness.publish(.staffDeleted, DirectoryDeleted(entity: .staff, id: "s-1"), at: now.addingTimeInterval(1))
            try await harness.publish(.staffDeleted, DirectoryDeleted(entity: .staff, id: "s-2"), at: now.addingTimeInterval(-60))
            let marker = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61400000000", text: "marker"))
            _ = try await harness.entries { $0.contains { $0.sourceRef == marker } }
            #expect(try await harness.strings("SELECT staff_id FROM related_staff WHERE client_id = 'c-1'") == ["s-2"])
            #expect(try await harness.strings("SELECT value FROM contact_points WHERE owner_id = 's-2'") == ["kim@clinic.example"])
            #expect(try await harness.strings("SELECT id FROM staff WHERE deleted_at IS NOT NULL") == ["s-1"])
        }
    }

    @Test("upserts set the directory, an older event does not overwrite a newer one, and deletes forget addresses")
    func upsertsAndDeletes() async throws {
        try await PracticeHarness.run { harness in
            let now = Date()
            try await harness.publish(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Dr Lee", email: "lee@clinic.example", roles: [.staff, .manager], phoneExtension: "201", phones: ["+61390001000"]), at: now)
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann v2", emails: ["ann@example.org"], relatedStaffIDs: ["s-1"]), at: now)
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann v1 (stale)", emails: ["old@example.org"]), at: now.addingTimeInterval(-60))
            try await harness.publish(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Bella"), at: now)
            let marker = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61400000000", text: "marker"))
            _ = try await harness.entries { $0.contains { $0.sourceRef == marker } }

            #expect(try await harness.strings("SELECT name FROM clients WHERE id = 'c-1'") == ["Ann v2"])
            #expect(try await harness.strings("SELECT staff_id FROM related_staff WHERE client_id = 'c-1'") == ["s-1"])
            #expect(try await harness.strings("SELECT array_to_string(roles, ',') FROM staff WHERE id = 's-1'") == ["staff,manager"])
            #expect(try await harness.strings("SELECT kind || ':' || value FROM contact_points WHERE owner_id = 's-1' ORDER BY 1")
                == ["email:lee@clinic.example", "extension:201", "phone:+61390001000"])
            #expect(try await harness.strings("SELECT value FROM contact_points WHERE owner_id = 'c-1'") == ["ann@example.org"])
            #expect(try await harness.strings("SELECT client_id FROM patients WHERE id = 'p-1'") == ["c-1"])

            try await harness.publish(.clientDeleted, DirectoryDeleted(entity: .client, id: "c-1"), at: now.addingTimeInterval(1))
            let second = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61400000000", text: "after delete"))
            _ = try await harness.entries { $0.contains { $0.sourceRef == second } }
            #expect(try await harness.strings("SELECT value FROM contact_points WHERE owner_id = 'c-1'").isEmpty)
            #expect(try await harness.strings("SELECT staff_id FROM related_staff WHERE client_id = 'c-1'").isEmpty)
            #expect(try await harness.strings("SELECT id FROM clients WHERE id = 'c-1' AND deleted_at IS NOT NULL") == ["c-1"])
        }
    }
}
