import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// A read replica that does not answer costs reads nothing but the primary: they go there.
@Suite("Read replica down")
struct ReadReplicaDownTests {
    @Test("with nothing listening at the replica's address, reads go to the primary within seconds")
    func replicaDown() async throws {
        try await TestEnvironment.withDatabase { database in
            var replicaConfiguration = try DatabaseConfiguration(url: "postgres://commlog_app:x@127.0.0.1:\(freePort())/commlog")
            replicaConfiguration.maximumConnections = 2
            var withReplica = database
            let replica = ReadReplica(configuration: replicaConfiguration, logger: TestEnvironment.logger)
            withReplica.replica = replica
            let reading = withReplica
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await replica.client.run() }
                defer { group.cancelAll() }
                // Bounded: a read that waited for the replica for ever would fail here, not hang the suite.
                let start = ContinuousClock.now
                let chosen = try await abandoning(after: .seconds(30)) { await reading.forReading(after: nil) }
                #expect(chosen.client === database.client)
                #expect(ContinuousClock.now - start < .seconds(5))
                // Left alone for a while: the next read does not wait for it again.
                let again = ContinuousClock.now
                #expect(try await abandoning(after: .seconds(30)) { await reading.forReading(after: nil) }.client === database.client)
                #expect(ContinuousClock.now - again < .milliseconds(500))
                let count = try await chosen.withTransaction { connection in
                    var value = 0
                    for try await one in try await connection.query("SELECT 1", logger: database.logger).decode(Int.self) { value = one }
                    return value
                }
                #expect(count == 1)
            }
        }
    }
}
