import CommlogDomain
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport

@Suite("reminder-logger: reminders")
struct ReminderTests {
    static func reminder(_ channel: ReminderChannel, kind: ReminderKind = .patient, address: String? = "ann@example.org") -> ReminderSent {
        ReminderSent(
            locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1", channel: channel,
            address: address, kind: kind, reminderType: "Vaccination", reminderCount: 2,
            template: "Vaccination reminder v3", subject: "Bella is due for her vaccination", content: "Dear Ann, ..."
        )
    }

    @Test("emailed, SMSed and printed reminders are logged as email, sms and mail with their reminder details")
    func loggedChannels() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", emails: ["ann@example.org"], phones: ["+61412345678"]))
            let email = try await harness.publish(.reminderSent, Self.reminder(.email))
            let sms = try await harness.publish(.reminderSent, Self.reminder(.sms, address: "+61 412 345 678"))
            let print = try await harness.publish(.reminderSent, Self.reminder(.print, kind: .appointment, address: "1 Main St, Springfield"))
            let entries = try await harness.entries(count: 3)
            #expect(entries.count == 3)
            let byRef = Dictionary(uniqueKeysWithValues: entries.map { ($0.sourceRef, $0) })

            let emailed = try #require(byRef[email])
            #expect(emailed.type == .email)
            #expect(emailed.direction == .outbound)
            #expect(emailed.status == .closed)
            #expect(emailed.reason == "PATIENT_REMINDER")
            #expect(emailed.reminderType == "Vaccination")
            #expect(emailed.reminderCount == 2)
            #expect(emailed.template == "Vaccination reminder v3")
            #expect(emailed.subject == "Bella is due for her vaccination")
            #expect(emailed.content == "Dear Ann, ...")
            #expect(emailed.clientID == "c-1")
            #expect(emailed.patientID == "p-1")
            #expect(emailed.locationID == "loc-1")
            #expect(emailed.authorStaffID == "s-1")
            #expect(emailed.source == .practice)
            #expect(emailed.showInPatientHistory)
            #expect(emailed.participants == [Participant(role: .to, kind: .client, id: "c-1", address: "ann@example.org")])

            let texted = try #require(byRef[sms])
            #expect(texted.type == .sms)
            #expect(texted.address == "+61412345678")
            #expect(texted.participants.first?.kind == .client)

            let printed = try #require(byRef[print])
            #expect(printed.type == .mail)
            #expect(printed.reason == "APPOINTMENT_REMINDER")
            #expect(printed.address == "1 Main St, Springfield")
        }
    }

    @Test("a reminder's description is its type and count; a patient of another client is dropped, one the directory does not know is kept")
    func openVPMSRules() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", emails: ["ann@example.org"]))
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-2", name: "Bob"))
            try await harness.publish(.patientUpserted, PatientUpserted(patientID: "p-9", clientID: "c-2", name: "Rex"))
            // The directory first: the reminder's batch must find the patient's client.
            try await waitUntil("p-9 in the directory") {
                try await harness.database.withTenant(harness.organisationID) { connection in
                    for try await _ in try await connection.query(
                        "SELECT 1 FROM patients WHERE organisation_id = \(harness.organisationID) AND id = 'p-9'", logger: harness.database.logger
                    ) { return true }
                    return false
                }
            }
            let other = try await harness.publish(.reminderSent, ReminderSent(
                locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-9", channel: .email, address: "ann@example.org",
                kind: .patient, reminderType: "Vaccination", reminderCount: 2, subject: "due", content: "Dear Ann"
            ))
            let unknown = try await harness.publish(.reminderSent, Self.reminder(.email))
            let entries = try await harness.entries(count: 2)
            let byRef = Dictionary(uniqueKeysWithValues: entries.map { ($0.sourceRef, $0) })
            let dropped = try #require(byRef[other])
            #expect(dropped.clientID == "c-1")
            #expect(dropped.patientID == nil)
            #expect(!dropped.showInPatientHistory)
            #expect(byRef[unknown]?.patientID == "p-1")
            let descriptions = try await harness.database.withTenant(harness.organisationID) { connection in
                var found: [String?] = []
                for try await text in try await connection.query(
                    "SELECT description FROM communications WHERE organisation_id = \(harness.organisationID) ORDER BY source_ref", logger: harness.database.logger
                ).decode(String?.self) {
                    found.append(text)
                }
                return found
            }
            #expect(descriptions == ["Vaccination (reminder 2)", "Vaccination (reminder 2)"])
        }
    }

    @Test("reminders listed to be phoned or exported are not logged")
    func phoneAndExportSkipped() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.reminderSent, Self.reminder(.phone, address: "+61412345678"))
            try await harness.publish(.reminderSent, Self.reminder(.export, address: nil))
            let marker = try await harness.publish(.reminderSent, Self.reminder(.email))
            let entries = try await harness.entries(count: 1, settle: .milliseconds(500))
            #expect(entries.map(\.sourceRef) == [marker])
        }
    }

    @Test("the same event delivered many times is logged once")
    func duplicates() async throws {
        try await PracticeHarness.run { harness in
            let id = "dup-\(TestEnvironment.unique("e"))"
            for _ in 0..<5 { try await harness.publish(.reminderSent, Self.reminder(.email), id: id) }
            let other = try await harness.publish(.reminderSent, Self.reminder(.sms, address: "+61412345678"))
            let entries = try await harness.entries(count: 2, settle: .milliseconds(500))
            #expect(entries.compactMap(\.sourceRef).sorted() == [id, other].sorted())
        }
    }

    @Test("statements are accepted and never logged")
    func statements() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.statementSent, StatementSent(clientID: "c-1"))
            let marker = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61412345678", text: "hi"))
            let entries = try await harness.entries(count: 1, settle: .milliseconds(500))
            #expect(entries.map(\.sourceRef) == [marker])
        }
    }
}
