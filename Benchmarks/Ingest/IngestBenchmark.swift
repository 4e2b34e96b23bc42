import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import Messaging
import PostgresNIO
import Storage
import TestSupport

/// Ingest, end to end and against the engines' own limits on this machine:
/// 1. raw AMQP: the same messages published with confirms to a quorum queue and consumed with acks;
/// 2. raw COPY: the same rows (entries and their participants) copied into the same tables, by one connection and
///    by two at once (the better is the engine's limit);
/// 3. end to end: the events published with confirms until every entry is committed by reminder-logger.
struct IngestBenchmark {
    let events: Int
    let bin: String
    let configuration: ProgramConfiguration
    let logger: Logger

    func run() async throws {
        let database = Database(configuration: configuration.database, logger: logger)
        // COPY is refused on tables under row-level security, so the engine's own limit is measured as the
        // owner, which row-level security does not apply to.
        let owner = Database(configuration: try configuration.ownerDatabase(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            group.addTask { await owner.client.run() }
            defer { group.cancelAll() }
            let connection = AMQPConnection(configuration: configuration.amqp, logger: logger)
            defer { Task { await connection.shutdown() } }

            say("ingest benchmark: \(events) reminder events (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
            let amqp = try await rawAMQP(connection)
            say(String(format: "  raw AMQP publish (confirms) + consume (acks), quorum queue: %9.0f msg/s", amqp))
            // One connection may leave a core idle: the engine's limit is the better of one and two at once.
            let copyOne = try await rawCOPY(owner, connections: 1)
            say(String(format: "  raw COPY into communications + participants, 1 connection:  %9.0f rows/s", copyOne))
            let copyTwo = try await rawCOPY(owner, connections: 2)
            say(String(format: "  raw COPY into communications + participants, 2 at once:     %9.0f rows/s", copyTwo))
            let copy = max(copyOne, copyTwo)
            let (endToEnd, memory) = try await endToEnd(connection, database)
            say(String(format: "  end to end, published -> committed by reminder-logger:    %9.0f events/s", endToEnd))
            let limit = min(amqp, copy)
            say(String(format: "  ratio to the lower engine limit: %.2f (goal >= 0.80); to AMQP %.2f, to COPY %.2f", endToEnd / limit, endToEnd / amqp, endToEnd / copy))
            // Each engine had the machine to itself above; end to end, every event costs the work of both on the same
            // cores. An estimate, not a bound (neither engine keeps both cores busy alone): 1 / (1/AMQP + 1/COPY).
            let shared = 1 / (1 / amqp + 1 / copy)
            say(String(format: "  an estimate of both engines sharing the cores, 1 / (1/AMQP + 1/COPY): %.0f events/s (%.2f of the lower); end to end %.2f of it",
                       shared, shared / limit, endToEnd / shared))
            say(memory)
            await connection.shutdown()
        }
    }

    /// The reminder events of one organisation, as the practice software publishes them.
    func messages(organisation: String) throws -> [OutgoingMessage] {
        let now = Date()
        return try (0..<events).map { index in
            try EventEnvelope(
                type: .reminderSent, organisationID: organisation,
                data: ReminderSent(
                    locationID: "loc-1", authorStaffID: "s-1", clientID: "c-\(index % 5_000)", patientID: "p-\(index % 5_000)",
                    channel: .email, address: "client\(index % 5_000)@example.org", kind: .patient, reminderType: "Vaccination",
                    reminderCount: 1 + index % 3, template: "Vaccination reminder v3", subject: "Your pet is due for a vaccination",
                    content: "Dear client, our records show that your pet is due for its annual vaccination. Please call us to book."
                ),
                id: "\(organisation)-\(index)", occurredAt: now.addingTimeInterval(Double(index) / 1000)
            ).outgoing()
        }
    }

    func rawAMQP(_ connection: AMQPConnection) async throws -> Double {
        let queue = Topology.Queue(name: "bench.amqp-\(UUID().uuidString.prefix(8))", bindings: ["bench.amqp"], expiresAfter: .seconds(600))
        try await connection.declare(.commlog(queues: [queue]))
        let messages = try self.messages(organisation: "bench").map { message in
            var message = message
            message.routingKey = "bench.amqp"
            return message
        }
        let consumer = AMQPConnection(configuration: configuration.amqp, logger: logger)
        let deliveries = consumer.consume(queue: queue.name, prefetch: 2_000)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var received = 0
                while received < messages.count {
                    let batch = try await deliveries.nextBatch(maximum: 500, maximumWait: .milliseconds(5))
                    received += batch.count
                    batch.last?.ack(multiple: true)
                }
            }
            for chunk in stride(from: 0, to: messages.count, by: 5_000) {
                try await connection.publish(Array(messages[chunk..<min(chunk + 5_000, messages.count)]), timeout: .seconds(120))
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        deliveries.stop()
        await consumer.shutdown()
        try await connection.deleteQueue(queue.name)
        return Double(events) / elapsed.seconds
    }

    /// Rows per second copied into communications and participants by `connections` transactions at once, each
    /// with its share of the events.
    func rawCOPY(_ database: Database, connections: Int) async throws -> Double {
        let organisation = "bench-copy-\(UUID().uuidString.prefix(8))"
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<connections {
                let share = stride(from: part, to: events, by: connections)
                group.addTask { try await copy(share, of: organisation, into: database) }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        try await database.withTransaction { connection in
            try await connection.query("DELETE FROM communications WHERE organisation_id = \(organisation)", logger: logger)
        }
        return Double(events) / elapsed.seconds
    }

    private func copy(_ indices: StrideTo<Int>, of organisation: String, into database: Database) async throws {
        let occurred = "2026-11-25 09:30:00+00"
        try await database.withTransaction { connection in
            var ids: [(index: Int, id: UUID)] = []
            ids.reserveCapacity(events)
            try await connection.copyFrom(
                table: "communications",
                columns: ["organisation_id", "id", "type", "direction", "status", "occurred_at", "client_id", "patient_id", "location_id",
                          "author_staff_id", "reason", "address", "subject", "content", "source", "source_ref", "template",
                          "reminder_type", "reminder_count", "show_in_patient_history"],
                logger: logger
            ) { writer in
                var buffer = ByteBuffer()
                for index in indices {
                    let id = UUID()
                    ids.append((index, id))
                    buffer.writeString("\(organisation)\t\(id)\temail\toutbound\tclosed\t\(occurred)\tc-\(index % 5_000)\tp-\(index % 5_000)\tloc-1\ts-1\tPATIENT_REMINDER\tclient\(index % 5_000)@example.org\tYour pet is due for a vaccination\tDear client, our records show that your pet is due for its annual vaccination. Please call us to book.\tpractice\t\(organisation)-\(index)\tVaccination reminder v3\tVaccination\t\(1 + index % 3)\tt\n")
                    if buffer.readableBytes > 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                try await writer.write(buffer)
            }
            try await connection.copyFrom(
                table: "participants",
                columns: ["organisation_id", "communication_id", "position", "role", "kind", "ref_id", "address", "occurred_at"],
                logger: logger
            ) { writer in
                var buffer = ByteBuffer()
                for (index, id) in ids {
                    buffer.writeString("\(organisation)\t\(id)\t0\tto\tclient\tc-\(index % 5_000)\tclient\(index % 5_000)@example.org\t\(occurred)\n")
                    if buffer.readableBytes > 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                try await writer.write(buffer)
            }
        }
    }

    /// Events per second, and the line of reminder-logger's resident memory: idle (connected, before the first
    /// event) and its peak while it logs.
    func endToEnd(_ connection: AMQPConnection, _ database: Database) async throws -> (Double, memory: String) {
        let organisation = "bench-e2e-\(UUID().uuidString.prefix(8))"
        try await connection.declare(.commlog(queues: [Topology.Queue(name: CommlogQueues.practice.name, bindings: CommlogQueues.practice.bindings)]))
        try await connection.publish(EventEnvelope(type: .organisationUpserted, organisationID: organisation, data: OrganisationUpserted(name: "Benchmark")).outgoing())
        let messages = try self.messages(organisation: organisation)
        let program = try ChildProcess(
            executable: URL(fileURLWithPath: bin).appendingPathComponent("reminder-logger").path,
            environment: ProcessInfo.processInfo.environment.merging(["COMMLOG_HTTP_PORT": "18982", "COMMLOG_LOG_LEVEL": "warning"]) { _, new in new }
        )
        // Let it connect, so that its start-up is not part of the measurement.
        try await Task.sleep(for: .seconds(2))
        let memory = ResidentMemory(pid: program.pid)
        let idle = memory.now
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: messages.count, by: 5_000) {
            try await connection.publish(Array(messages[chunk..<min(chunk + 5_000, messages.count)]), timeout: .seconds(120))
        }
        let published = ContinuousClock.now - start
        say(String(format: "    (published with confirms in %.2f s: %.0f msg/s)", published.seconds, Double(events) / published.seconds))
        // Probing must not compete with reminder-logger for the CPU: counting reads every entry so far (100,000
        // rows towards the end, every 20 ms), so until the last event's entry is there the probe is one index
        // lookup, and only then, as batches may commit out of order, the count.
        let lastReference = "\(organisation)-\(events - 1)"
        var committed = 0
        while committed < events {
            try await Task.sleep(for: .milliseconds(20))
            if program.hasExited {
                throw BenchmarkError("reminder-logger ended (status \(await program.wait())) before the \(events) events were logged; its log is above")
            }
            committed = try await database.withTenant(organisation) { connection in
                var count = 0
                for try await value in try await connection.query(
                    "SELECT CASE WHEN EXISTS (SELECT 1 FROM communications WHERE source = 'practice' AND source_ref = \(lastReference)) THEN (SELECT count(*)::int FROM communications) ELSE 0 END",
                    logger: logger
                ).decode(Int.self) { count = value }
                return count
            }
        }
        let elapsed = ContinuousClock.now - start
        let peak = memory.peakMegabytes
        program.signal(SIGTERM)
        await program.wait()
        try await database.withTenant(organisation) { connection in
            try await connection.query("DELETE FROM communications", logger: logger)
        }
        return (Double(events) / elapsed.seconds, ResidentMemory.report(program: "reminder-logger", idle: idle, peak: peak))
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Prints a line at once (standard output is a pipe under make, and a crash would lose buffered lines).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
