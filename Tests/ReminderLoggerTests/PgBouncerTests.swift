import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

extension ReminderLoggerProcesses {
    /// reminder-logger behind PgBouncer in transaction mode (`stack.sh up --pgbouncer`), as hundreds of replicas
    /// share one database's connections: each transaction may run on another server connection.
    @Suite("reminder-logger: through PgBouncer")
    struct PgBouncerTests {
        @Test("organisations switched on at once are logged whole through PgBouncer, with two replicas and four batches each in flight")
        func ingestThroughPgBouncer() async throws {
            let bouncer = try TestEnvironment.variable("COMMLOG_TEST_PGBOUNCER_URL")
            let organisations = (0..<20).map { _ in TestEnvironment.unique("org-bouncer") }
            var messages: [OutgoingMessage] = []
            for organisation in organisations {
                func add<Payload: Encodable & Sendable>(_ type: EventType, _ data: Payload) throws {
                    messages.append(try EventEnvelope(type: type, organisationID: organisation, data: data).outgoing())
                }
                try add(.organisationUpserted, OrganisationUpserted(name: "Behind the pooler"))
                try add(.locationUpserted, LocationUpserted(locationID: "loc-1", name: "Main street"))
                try add(.staffUpserted, StaffUpserted(staffID: "s-1", name: "Staff", email: "s1@practice.example"))
                for index in 1...3 {
                    try add(.clientUpserted, ClientUpserted(clientID: "c-\(index)", name: "Client \(index)", emails: ["c\(index)@example.org"], phones: ["+6141234567\(index)"]))
                    try add(.reminderSent, ReminderSent(locationID: "loc-1", clientID: "c-\(index)", channel: .email, address: "c\(index)@example.org", kind: .patient,
                                                        reminderType: "Vaccination", reminderCount: 1, subject: "Reminder", content: "Due"))
                    try add(.smsSent, SMSSent(locationID: "loc-1", clientID: "c-\(index)", to: "+6141234567\(index)", text: "See you soon"))
                    try add(.emailSent, EmailSent(locationID: "loc-1", authorStaffID: "s-1", clientID: "c-\(index)", from: "s1@practice.example",
                                                  to: ["c\(index)@example.org"], subject: "Results", bodyText: "All fine",
                                                  messageID: "<\(organisation)-\(index)@practice.example>"))
                }
            }
            let events = messages
            let database = Database(configuration: try DatabaseConfiguration(url: bouncer), logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.client.run() }
                defer { group.cancelAll() }
                try await TestEnvironment.withConnection(name: "test-pgbouncer") { connection in
                    try await connection.declare(.commlog(queues: [Topology.Queue(name: CommlogQueues.practice.name, bindings: CommlogQueues.practice.bindings)]))
                    let ports = [freePort(), freePort()]
                    let replicas = try ports.map { port in
                        try ProgramProcess("reminder-logger", environment: [
                            "COMMLOG_HTTP_PORT": "\(port)", "COMMLOG_DATABASE_URL": bouncer, "COMMLOG_CONSUMER_CONCURRENCY": "4", "COMMLOG_BATCH_WAIT_MS": "2",
                        ])
                    }
                    for port in ports {
                        try await waitUntil("replica on \(port) ready", timeout: .seconds(30)) { await ProgramProcess.isReady(port: port) }
                    }
                    try await connection.publish(events, timeout: .seconds(60))
                    // Read back through PgBouncer too: the tenant is set per transaction.
                    func logged() async throws -> [Int] {
                        var counts: [Int] = []
                        for organisation in organisations {
                            counts.append(try await database.withTenant(organisation) { connection in
                                var count = 0
                                for try await value in try await connection.query("SELECT count(*)::int FROM communications", logger: database.logger).decode(Int.self) {
                                    count = value
                                }
                                return count
                            })
                        }
                        return counts
                    }
                    let counts = try await eventually(timeout: .seconds(60), every: .milliseconds(500), reading: logged, until: { $0.allSatisfy { $0 == 9 } })
                    #expect(counts.allSatisfy { $0 == 9 }, "\(counts)")
                    var letters: [String] = []
                    for try await reason in try await database.client.query(
                        "SELECT reason FROM dead_letters WHERE organisation_id = ANY(\(organisations))", logger: database.logger
                    ).decode(String.self) {
                        letters.append(reason)
                    }
                    #expect(letters.isEmpty, "\(letters)")
                    for replica in replicas { #expect(await replica.kill(SIGTERM) == 0) }
                }
            }
        }
    }
}
