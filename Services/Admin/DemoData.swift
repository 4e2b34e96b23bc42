import ArgumentParser
import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import Messaging

/// `commlog demo-data`: publishes a small practice (directory and a few sent messages) as the practice
/// software would. Event ids are fixed, so running it again logs nothing twice.
struct DemoData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-data",
        abstract: "Publish demo events for organisation demo-org (idempotent)."
    )

    @Option(help: "The organisation to create.")
    var org = "demo-org"

    func run() async throws {
        let configuration = try ProgramConfiguration.forAdmin()
        var logger = Logger(label: "commlog.demo")
        logger.logLevel = .warning
        let connection = AMQPConnection(configuration: configuration.amqp, logger: logger)
        let messages = try events().map { try $0() }
        do {
            try await connection.publish(messages, timeout: .seconds(30))
        } catch {
            await connection.shutdown()
            throw error
        }
        await connection.shutdown()
        print("Published \(messages.count) demo events for \(org) (staff s-1 manager, s-2 staff, s-3 admin; clients c-1, c-2).")
    }

    /// Each event as a closure producing its message, with an id derived from `org` and its position.
    private func events() -> [() throws -> OutgoingMessage] {
        let now = Date()
        var sequence = 0
        func event<Payload: Encodable & Sendable>(_ type: EventType, _ data: Payload, minutesAgo: Double = 0) -> () throws -> OutgoingMessage {
            sequence += 1
            let envelope = EventEnvelope(type: type, organisationID: org, data: data, id: "\(org)-demo-\(sequence)", occurredAt: now.addingTimeInterval(-minutesAgo * 60))
            return { try envelope.outgoing() }
        }
        return [
            event(.organisationUpserted, OrganisationUpserted(name: "Riverside Veterinary Clinic", timezone: "Australia/Melbourne")),
            event(.locationUpserted, LocationUpserted(locationID: "loc-1", name: "Riverside", loggingEnabled: nil)),
            event(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Dr Sam Lee", email: "sam@riverside.example", roles: [.manager], phoneExtension: "201")),
            event(.staffUpserted, StaffUpserted(staffID: "s-2", name: "Alex Kim", email: "alex@riverside.example", roles: [.staff], phoneExtension: "202")),
            event(.staffUpserted, StaffUpserted(staffID: "s-3", name: "Jo Admin", email: "jo@riverside.example", roles: [.admin])),
            event(.clientUpserted, ClientUpserted(clientID: "c-1", name: "Ann Smith", emails: ["ann@example.org"], phones: ["+61412345678"], relatedStaffIDs: ["s-2"])),
            event(.clientUpserted, ClientUpserted(clientID: "c-2", name: "Bob Jones", emails: ["bob@example.org"], phones: ["+61398765432"])),
            event(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Bella")),
            event(.connectionUpserted, ConnectionUpserted(connectionID: "k-1", clientID: "c-1", name: "Tom Smith", relationship: "partner", emails: ["tom@example.org"])),
            event(.reminderSent, ReminderSent(
                locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1", channel: .email,
                address: "ann@example.org", kind: .patient, reminderType: "Vaccination", reminderCount: 1,
                template: "Vaccination reminder v3", subject: "Bella is due for her vaccination",
                content: "Dear Ann, Bella is due for her annual vaccination. Please call us to book."
            ), minutesAgo: 90),
            event(.smsSent, SMSSent(locationID: "loc-1", authorStaffID: "s-2", clientID: "c-1", to: "+61 412 345 678", text: "Your appointment is tomorrow at 9:00"), minutesAgo: 60),
            event(.smsReceived, SMSReceived(locationID: "loc-1", from: "+61 412 345 678", to: "+61 3 9000 1000", text: "Thanks, see you at 9:00"), minutesAgo: 55),
            event(.emailSent, EmailSent(
                locationID: "loc-1", authorStaffID: "s-1", clientID: "c-1", patientID: "p-1", from: "clinic@riverside.example",
                to: ["ann@example.org"], cc: ["tom@example.org"], subject: "Lab results", bodyText: "Dear Ann, Bella's results are attached.",
                // The HTML as a mail program writes it, with a remote image (a tracking pixel) the page must not load.
                bodyHTML: """
                    <p>Dear Ann,</p><p>Bella's <b>blood results</b> are attached: everything is in the normal range.</p>\
                    <p>Kind regards,<br>Dr Sam Lee</p><img src="https://tracker.example/pixel.gif" width="1" height="1" alt="">
                    """,
                attachments: [EmailAttachment(name: "results.pdf", contentType: "application/pdf", size: 48_213, document: DocumentReference(owner: .patient, id: "p-1"))]
            ), minutesAgo: 30),
            event(.emailSent, EmailSent(
                locationID: "loc-1", authorStaffID: "s-2", clientID: "c-2", from: "clinic@riverside.example",
                to: ["bob@example.org"], subject: "Thank you", bodyText: "Dear Bob, thank you for visiting us."
            ), minutesAgo: 10),
            event(.statementSent, StatementSent(clientID: "c-2"), minutesAgo: 5),
        ]
    }
}
