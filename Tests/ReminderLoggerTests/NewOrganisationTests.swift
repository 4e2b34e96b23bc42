import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

extension ReminderLoggerProcesses {
    /// A practice switched on: its organisation, then at once its directory and its first sends, as practice
    /// software publishes them (one channel, in order, confirmed). Two replicas with four batches each in flight
    /// share the queue, so one of them is handed sends while the other still commits their organisation.
    @Suite("reminder-logger: a new organisation's first events")
    struct NewOrganisationTests {
        /// The ~20 events of one practice switched on; the first is its organisation.
        static func switchedOn(_ organisation: String) throws -> [OutgoingMessage] {
            var messages = [try EventEnvelope(type: .organisationUpserted, organisationID: organisation, data: OrganisationUpserted(name: "New practice")).outgoing()]
            func add<Payload: Encodable & Sendable>(_ type: EventType, _ data: Payload) throws {
                messages.append(try EventEnvelope(type: type, organisationID: organisation, data: data).outgoing())
            }
            try add(.locationUpserted, LocationUpserted(locationID: "loc-1", name: "Main street"))
            try add(.locationUpserted, LocationUpserted(locationID: "loc-2", name: "Hill road", loggingEnabled: true))
            for index in 1...3 { try add(.staffUpserted, StaffUpserted(staffID: "s-\(index)", name: "Staff \(index)", email: "s\(index)@practice.example")) }
            for index in 1...4 {
                try add(.clientUpserted, ClientUpserted(clientID: "c-\(index)", name: "Client \(index)", emails: ["c\(index)@example.org"], phones: ["+6141234567\(index)"]))
            }
            try add(.patientUpserted, PatientUpserted(patientID: "p-1", clientID: "c-1", name: "Rex"))
            try add(.connectionUpserted, ConnectionUpserted(connectionID: "n-1", clientID: "c-1", name: "Carer"))
            for index in 1...3 {
                try add(.reminderSent, ReminderSent(locationID: "loc-1", clientID: "c-\(index)", channel: .email, address: "c\(index)@example.org", kind: .patient,
                                                    reminderType: "Vaccination", reminderCount: 1, subject: "Reminder", content: "Due"))
                try add(.smsSent, SMSSent(locationID: "loc-2", clientID: "c-\(index)", to: "+6141234567\(index)", text: "See you soon"))
                try add(.emailSent, EmailSent(locationID: "loc-1", authorStaffID: "s-1", clientID: "c-\(index)", from: "s1@practice.example",
                                              to: ["c\(index)@example.org"], subject: "Results", bodyText: "All fine"))
            }
            return messages
        }

        @Test("100 organisations switched on at once, two replicas, concurrency 4: every send logged, nothing dead-lettered")
        func switchedOnAtOnce() async throws {
            let organisations = (0..<100).map { _ in TestEnvironment.unique("org-new") }
            try await TestEnvironment.withDatabase { database in
                try await TestEnvironment.withConnection(name: "test-new-organisation") { connection in
                    try await connection.declare(.commlog(queues: [Topology.Queue(name: CommlogQueues.practice.name, bindings: CommlogQueues.practice.bindings)]))
                    let ports = [freePort(), freePort()]
                    let replicas = try ports.map { port in
                        try ProgramProcess("reminder-logger", environment: [
                            "COMMLOG_HTTP_PORT": "\(port)", "COMMLOG_CONSUMER_CONCURRENCY": "4", "COMMLOG_BATCH_WAIT_MS": "2",
                        ])
                    }
                    // Both consume before anything is published (ready: connected, queues declared and consumed), so
                    // the broker splits the events between them.
                    for port in ports {
                        try await waitUntil("replica on \(port) ready", timeout: .seconds(30)) { await ProgramProcess.isReady(port: port) }
                    }
                    try await connection.publish(try organisations.flatMap(Self.switchedOn), timeout: .seconds(120))

                    func logged() async throws -> Int {
                        var total = 0
                        for organisation in organisations {
                            total += try await database.withTenant(organisation) { connection in
                                var count = 0
                                for try await value in try await connection.query("SELECT count(*)::int FROM communications", logger: database.logger).decode(Int.self) {
                                    count = value
                                }
                                return count
                            }
                        }
                        return total
                    }
                    let all = try await eventually(timeout: .seconds(120), every: .milliseconds(500)) { try await logged() == organisations.count * 9 }
                    var letters: [String] = []
                    for try await reason in try await database.client.query(
                        "SELECT reason FROM dead_letters WHERE organisation_id = ANY(\(organisations))", logger: database.logger
                    ).decode(String.self) {
                        letters.append(reason)
                    }
                    let count = try await logged()
                    for replica in replicas { await replica.kill(SIGTERM) }
                    #expect(all, "logged \(count) of \(organisations.count * 9)")
                    #expect(letters.count == 0, "\(letters.count) dead-lettered, e.g. \(letters.first ?? "")")
                }
            }
        }
    }
}
