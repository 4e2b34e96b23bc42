import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// The suites that run the real program, one at a time: each consumes the shared reminder-logger.practice queue,
/// so side by side one would take the other's events.
@Suite(.serialized) enum ReminderLoggerProcesses {}

extension ReminderLoggerProcesses {
    /// The real reminder-logger program, killed with SIGKILL in the middle of a run and started again.
    @Suite("reminder-logger: killed mid-run")
    struct KillRecoveryTests {
        @Test("SIGKILL in the middle of a 20,000-event run, then a restart, ends with exactly 20,000 entries")
        func killAndRestart() async throws {
            let total = 20_000
            let organisation = TestEnvironment.unique("org-kill")
            try await TestEnvironment.withDatabase { database in
                try await TestEnvironment.withConnection(name: "test-kill") { connection in
                    // The queue as the program declares it, so that events wait for it while it is down.
                    try await connection.declare(.commlog(queues: [Topology.Queue(name: CommlogQueues.practice.name, bindings: CommlogQueues.practice.bindings)]))
                    var messages = [try EventEnvelope(type: .organisationUpserted, organisationID: organisation, data: OrganisationUpserted(name: "Kill test")).outgoing()]
                    for index in 0..<total {
                        messages.append(try EventEnvelope(
                            type: .reminderSent, organisationID: organisation,
                            data: ReminderSent(clientID: "c-\(index % 500)", channel: .email, address: "client\(index % 500)@example.org", kind: .patient,
                                               reminderType: "Vaccination", reminderCount: 1, subject: "Reminder \(index)", content: "Dear client, ..."),
                            id: "\(organisation)-\(index)"
                        ).outgoing())
                    }
                    try await connection.publish(messages, timeout: .seconds(120))

                    func count() async throws -> Int {
                        try await database.withTenant(organisation) { connection in
                            var count = 0
                            for try await value in try await connection.query("SELECT count(*)::int FROM communications", logger: database.logger).decode(Int.self) { count = value }
                            return count
                        }
                    }

                    let port = String(freePort())
                    let first = try ProgramProcess("reminder-logger", environment: ["COMMLOG_HTTP_PORT": port])
                    #expect(try await eventually(timeout: .seconds(60), every: .milliseconds(5)) { try await count() >= 2_000 })
                    await first.kill(SIGKILL)
                    let atKill = try await count()
                    #expect(atKill < total, "the program should be killed mid-run (it had logged \(atKill))")

                    let second = try ProgramProcess("reminder-logger", environment: ["COMMLOG_HTTP_PORT": port])
                    #expect(try await eventually(timeout: .seconds(120), every: .milliseconds(100)) { try await count() >= total })
                    try await Task.sleep(for: .seconds(1))
                    #expect(try await count() == total)
                    let duplicates = try await database.withTenant(organisation) { connection in
                        var duplicates = 0
                        for try await value in try await connection.query(
                            "SELECT count(*)::int FROM (SELECT source_ref FROM communications GROUP BY source_ref HAVING count(*) > 1) d",
                            logger: database.logger
                        ).decode(Int.self) { duplicates = value }
                        return duplicates
                    }
                    #expect(duplicates == 0)
                    await second.kill(SIGTERM)
                }
            }
        }
    }
}
