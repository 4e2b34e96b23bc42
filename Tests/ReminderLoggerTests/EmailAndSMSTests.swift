import CommlogDomain
import Foundation
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport

@Suite("reminder-logger: emails and SMS")
struct EmailAndSMSTests {
    @Test("an ad-hoc email keeps its whole body, matches every party and lists its attachments")
    func adHocEmail() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Dr Lee", email: "lee@clinic.example", roles: [.staff]))
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", emails: ["Ann@Example.org"]))
            try await harness.publish(.connectionUpserted, ConnectionUpserted(connectionID: "k-1", clientID: "c-1", name: "Tom", relationship: "partner", emails: ["tom@example.org"]))
            let body = String(repeating: "A long letter. ", count: 2_000)  // 30,000 characters: no truncation
            try await harness.publish(.emailSent, EmailSent(
                locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", from: "lee@clinic.example",
                to: ["ann@example.org"], cc: ["Tom <TOM@example.org>"], bcc: ["someone@elsewhere.example"],
                subject: "Lab results", bodyText: body,
                attachments: [EmailAttachment(name: "invoice.pdf", contentType: "application/pdf", size: 1234)]
            ))
            let entry = try #require(try await harness.entries(count: 1).first)
            #expect(entry.type == .email)
            #expect(entry.reason == "AD_HOC_EMAIL")
            #expect(entry.clientID == "c-1")
            #expect(entry.content == body)
            #expect(entry.notes == "Attachments: invoice.pdf")
            #expect(entry.address == "ann@example.org")
            #expect(entry.participants.map(\.role) == [.from, .to, .cc, .bcc])
            #expect(entry.participants[0].kind == .staff && entry.participants[0].id == "s-1")
            #expect(entry.participants[1].kind == .client && entry.participants[1].id == "c-1")
            #expect(entry.participants[2].kind == .connection && entry.participants[2].id == "k-1")
            #expect(entry.participants[3].kind == .external && entry.participants[3].id == nil)
            #expect(entry.attachments.count == 1)
            #expect(entry.attachments.first?.name == "invoice.pdf")
            #expect(entry.attachments.first?.size == 1234)
        }
    }

    @Test("an email to a client's connection (a carer) is filed under the client")
    func connectionFiling() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", emails: ["ann@example.org"]))
            try await harness.publish(.connectionUpserted, ConnectionUpserted(connectionID: "k-1", clientID: "c-1", name: "Tom", relationship: "carer", emails: ["tom@example.org"]))
            try await waitUntil("k-1's address in the directory") {
                try await harness.database.withTenant(harness.organisationID) { connection in
                    for try await _ in try await connection.query(
                        "SELECT 1 FROM contact_points WHERE organisation_id = \(harness.organisationID) AND owner_id = 'k-1'", logger: harness.database.logger
                    ) { return true }
                    return false
                }
            }
            try await harness.publish(.emailSent, EmailSent(
                locationID: "loc-1", authorStaffID: "s-1", clientID: nil, from: "clinic@clinic.example", to: ["Tom <tom@example.org>"],
                subject: "Bella's medication", bodyText: "Twice a day."
            ))
            let entry = try #require(try await harness.entries(count: 1).first)
            #expect(entry.clientID == "c-1")
            #expect(entry.participants.last?.kind == .connection && entry.participants.last?.id == "k-1")
        }
    }

    @Test("an email carrying a patient's document is a forwarded document of its owner, even when sent to a third party")
    func forwardedDocumentToThirdParty() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", emails: ["ann@example.org"]))
            try await harness.publish(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Bella"))
            try await harness.publish(.emailSent, EmailSent(
                locationID: "loc-1", authorStaffID: "s-1", clientID: nil, from: "clinic@clinic.example",
                to: ["referrals@specialist.example"], subject: "Referral for Bella", bodyText: "Please see attached.",
                attachments: [
                    EmailAttachment(name: "history.pdf", contentType: "application/pdf", size: 48_213, document: DocumentReference(owner: .patient, id: "p-1")),
                    EmailAttachment(name: "xray.png", contentType: "image/png", size: 9_000),
                ]
            ))
            let entry = try #require(try await harness.entries(count: 1).first)
            #expect(entry.reason == "FORWARDED_DOCUMENT")
            #expect(entry.clientID == "c-1")
            #expect(entry.patientID == "p-1")
            #expect(entry.address == "referrals@specialist.example")
            #expect(entry.showInPatientHistory)
            #expect(entry.notes == "Attachments: history.pdf, xray.png")
            #expect(entry.participants.last == Participant(role: .to, kind: .external, address: "referrals@specialist.example"))
            #expect(entry.attachments.first?.documentOwner == "patient")
            #expect(entry.attachments.first?.documentID == "p-1")
        }
    }

    @Test("an email with only an HTML body is searchable as text, and its HTML is kept")
    func htmlOnly() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.emailSent, EmailSent(
                clientID: "c-1", from: "clinic@clinic.example", to: ["ann@example.org"], subject: "Hi",
                bodyHTML: "<html><style>p{}</style><body><p>Dear Ann,</p><p>See you &amp; Bella soon.</p></body></html>"
            ))
            let entry = try #require(try await harness.entries(count: 1).first)
            #expect(entry.content?.contains("Dear Ann,") == true)
            #expect(entry.content?.contains("See you & Bella soon.") == true)
            #expect(entry.content?.contains("<p>") == false)
            #expect(entry.content?.contains("p{}") == false)
            // The HTML itself is kept as it was sent, for a page to show in a sandbox.
            let html = try await harness.strings("SELECT html FROM contents WHERE communication_id = \(entry.id)")
            #expect(html == ["<html><style>p{}</style><body><p>Dear Ann,</p><p>See you &amp; Bella soon.</p></body></html>"])
        }
    }

    @Test("an event dated ahead of its receipt is ordered by its receipt and keeps the practice's time as claimed_at")
    func datedAhead() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", phones: ["+61412345678"]))
            let ahead = Date(timeIntervalSince1970: 4_102_444_800)  // 2100-01-01
            let before = Date()
            try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61412345678", text: "from the future"), at: ahead)
            _ = try await harness.entries(count: 1)
            let stored = try await harness.database.withTenant(harness.organisationID) { connection in
                var rows: [(Date, Date?, Date)] = []
                for try await row in try await connection.query("""
                    SELECT c.occurred_at, c.claimed_at, p.occurred_at FROM communications c
                    JOIN participants p ON p.organisation_id = c.organisation_id AND p.communication_id = c.id
                    WHERE c.organisation_id = \(harness.organisationID)
                    """, logger: harness.database.logger).decode((Date, Date?, Date).self) {
                    rows.append(row)
                }
                return rows
            }
            try #require(!stored.isEmpty)
            for (occurred, claimed, participant) in stored {
                #expect(occurred <= Date() && occurred >= before.addingTimeInterval(-1))
                #expect(claimed == ahead)
                #expect(participant == occurred)
            }
        }
    }

    @Test("an ad-hoc SMS keeps its text, with the number normalised and matched")
    func adHocSMS() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", phones: ["+61 412 345 678"]))
            try await harness.publish(.smsSent, SMSSent(locationID: "loc-1", authorStaffID: "s-1", clientID: nil, to: "+61 (412) 345-678", text: "Your appointment is tomorrow at 9:00"))
            let entry = try #require(try await harness.entries(count: 1).first)
            #expect(entry.type == .sms)
            #expect(entry.reason == "AD_HOC_SMS")
            #expect(entry.content == "Your appointment is tomorrow at 9:00")
            #expect(entry.address == "+61412345678")
            #expect(entry.clientID == "c-1")
            #expect(entry.participants == [Participant(role: .to, kind: .client, id: "c-1", address: "+61412345678")])
        }
    }

    @Test("a client's SMS is logged inbound: filed under the client whose number sent it, or a connection's client; a named client wins; an unknown number stays unfiled; an SMS sent to a connection is filed under its client")
    func receivedSMS() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann", phones: ["+61 412 345 678"]))
            try await harness.publish(.clientUpserted, ClientUpserted(clientID: "c-2", name: "Bob"))
            try await harness.publish(.patientUpserted, PatientUpserted(patientID: "p-2", clientID: "c-2", name: "Rex"))
            try await harness.publish(.connectionUpserted, ConnectionUpserted(connectionID: "k-1", clientID: "c-1", name: "Tom", phones: ["+61 400 111 222"]))
            let byNumber = try await harness.publish(.smsReceived, SMSReceived(locationID: "loc-1", from: "+61 (412) 345-678", to: "+61 3 9000 1000", text: "Yes, 9:00 is fine"))
            let byConnection = try await harness.publish(.smsReceived, SMSReceived(from: "+61400111222", text: "Running late"))
            let named = try await harness.publish(.smsReceived, SMSReceived(clientID: "c-2", patientID: "p-2", from: "+61499999999", text: "Rex is better"))
            let unknown = try await harness.publish(.smsReceived, SMSReceived(patientID: "p-2", from: "+61488888888", text: "Who is this?"))
            let reply = try await harness.publish(.smsSent, SMSSent(to: "+61 400 111 222", text: "No problem"))
            let entries = try await harness.entries(count: 5)
            func entry(_ id: String) throws -> StoredEntry { try #require(entries.first { $0.sourceRef == id }) }

            let first = try entry(byNumber)
            #expect(first.type == .sms && first.direction == .inbound && first.source == .practice)
            #expect(first.reason == nil)
            #expect(first.content == "Yes, 9:00 is fine")
            #expect(first.address == "+61412345678")
            #expect(first.clientID == "c-1")
            #expect(first.participants == [
                Participant(role: .from, kind: .client, id: "c-1", address: "+61412345678"),
                .external(.to, address: "+61390001000"),
            ])
            let second = try entry(byConnection)
            #expect(second.clientID == "c-1")
            #expect(second.participants == [Participant(role: .from, kind: .connection, id: "k-1", address: "+61400111222")])
            let third = try entry(named)
            #expect(third.clientID == "c-2" && third.patientID == "p-2" && third.showInPatientHistory)
            let fourth = try entry(unknown)
            #expect(fourth.clientID == nil, "an unknown number: unfiled, for a manager to file")
            #expect(fourth.patientID == "p-2", "no client named or matched to disagree with the patient's")
            #expect(fourth.participants.first?.kind == .external)
            let sent = try entry(reply)
            #expect(sent.direction == .outbound && sent.clientID == "c-1", "an SMS to a connection's number is filed under its client")
        }
    }
}
