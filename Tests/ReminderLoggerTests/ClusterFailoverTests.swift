import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

extension ReminderLoggerProcesses {
    /// reminder-logger and a publisher on the stack's three-node RabbitMQ cluster (`stack.sh up --cluster`): the
    /// node both are connected to is stopped while events flow.
    @Suite("reminder-logger: a three-node cluster losing a node")
    struct ClusterFailoverTests {
        @Test("stopping the node everyone is connected to loses no event and logs none twice; the node rejoins")
        func failover() async throws {
            let organisations = (0..<10).map { _ in TestEnvironment.unique("org-cluster") }
            var chunks: [[OutgoingMessage]] = []
            for organisation in organisations {
                var messages = [try EventEnvelope(type: .organisationUpserted, organisationID: organisation, data: OrganisationUpserted(name: "Clustered")).outgoing()]
                messages.append(try EventEnvelope(type: .clientUpserted, organisationID: organisation,
                                                  data: ClientUpserted(clientID: "c-1", name: "Client", emails: ["c1@example.org"], phones: [])).outgoing())
                for index in 0..<30 {
                    messages.append(try EventEnvelope(type: .smsSent, organisationID: organisation,
                                                      data: SMSSent(clientID: "c-1", to: "+61412345678", text: "message \(index)")).outgoing())
                }
                chunks.append(messages)
            }
            let expected = organisations.count * 30
            let batches = chunks
            try await TestEnvironment.withDatabase { database in
                let port = freePort()
                let logger = try ProgramProcess("reminder-logger", environment: [
                    "COMMLOG_AMQP_URL": try TestEnvironment.variable("COMMLOG_TEST_CLUSTER_AMQP_URL"), "COMMLOG_HTTP_PORT": "\(port)",
                    "COMMLOG_AMQP_HEARTBEAT_S": "2",
                ])
                try await waitUntil("reminder-logger on the cluster ready", timeout: .seconds(30)) { await ProgramProcess.isReady(port: port) }
                // The first node of the list is where every connection goes first.
                try await TestEnvironment.withConnection(name: "test-cluster", urlVariable: "COMMLOG_TEST_CLUSTER_AMQP_URL") { connection in
                    do {
                        for (index, chunk) in batches.enumerated() {
                            if index == 3 { try await TestEnvironment.stack("cluster-stop", "1") }
                            try await connection.publish(chunk, timeout: .seconds(60))
                        }
                    } catch {
                        _ = try? await TestEnvironment.stack("cluster-start", "1")
                        throw error
                    }
                }
                func logged() async throws -> (entries: Int, distinct: Int) {
                    var total = (entries: 0, distinct: 0)
                    for organisation in organisations {
                        let counts = try await database.withTenant(organisation) { connection in
                            var counts = (0, 0)
                            for try await row in try await connection.query(
                                "SELECT count(*)::int, count(DISTINCT source_ref)::int FROM communications", logger: database.logger
                            ).decode((Int, Int).self) {
                                counts = row
                            }
                            return counts
                        }
                        total.entries += counts.0
                        total.distinct += counts.1
                    }
                    return total
                }
                let counts = try await eventually(timeout: .seconds(90), every: .milliseconds(500), reading: logged, until: { $0.entries >= expected })
                try await Task.sleep(for: .seconds(2))  // anything logged twice would show up by now
                let settled = try await logged()
                #expect(counts.entries == expected)
                #expect(settled.entries == expected && settled.distinct == expected, "\(settled)")
                #expect(await ProgramProcess.isReady(port: port))
                #expect(await logger.kill(SIGTERM) == 0)
                try await TestEnvironment.stack("cluster-start", "1")
            }
        }
    }
}
