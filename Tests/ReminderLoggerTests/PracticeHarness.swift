import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import Messaging
import PostgresNIO
@testable import ReminderLogger
import Storage
import TestSupport

/// A reminder-logger consumer running in the test against the real broker and database, fed through an
/// exchange of the test's own, for an organisation of the test's own.
struct PracticeHarness {
    let organisationID: String
    let exchange: TestExchange
    let database: Database

    /// One logged entry as stored.
    struct Entry: Sendable {
        var id: UUID
        var type: String
        var direction: String?
        var status: String
        var clientID: String?
        var patientID: String?
        var locationID: String?
        var authorStaffID: String?
        var reason: String?
        var address: String?
        var subject: String?
        var notes: String?
        var content: String?
        var source: String
        var sourceRef: String
        var template: String?
        var reminderType: String?
        var reminderCount: Int?
        var showInPatientHistory: Bool
        var participants: [Participant] = []
        var attachments: [(name: String, contentType: String, size: Int, owner: String?, document: String?)] = []
    }

    /// Runs `body` with a consumer running; creates the organisation first unless `createOrganisation` is false.
    /// Events of an unknown organisation wait `prerequisiteWait` (2 s here, a minute deployed) before they are dead-lettered.
    static func run(createOrganisation: Bool = true, loggingEnabled: Bool = true, prerequisiteWait: Duration = .seconds(2),
                    publishers: PublisherPolicy = .open, organisationID: String = TestEnvironment.unique("org"), _ body: @Sendable (PracticeHarness) async throws -> Void) async throws {
        try await TestEnvironment.withDatabase { database in
            try await TestEnvironment.withConnection(name: "test-practice") { connection in
                let queue = TestEnvironment.unique("test.practice")
                let exchange = try await TestExchange.declare(queue: queue, bindings: ["practice.#"], on: connection)
                let announcer = Announcer(connection: connection, logger: TestEnvironment.logger)
                var handler = PracticeEventHandler(database: database, announcer: announcer, logger: TestEnvironment.logger)
                handler.publishers = publishers
                var configuration = BatchConfiguration()
                configuration.maximumWait = .milliseconds(5)
                configuration.prerequisiteWait = prerequisiteWait
                // As the program runs (COMMLOG_CONSUMER_CONCURRENCY), so the ordering rules are tested as deployed.
                let program = try ProgramConfiguration(program: "test", defaultHTTPPort: 0)
                configuration.concurrency = program.consumerConcurrencyIsSet ? program.consumer.concurrency : PracticeEventHandler.defaultConcurrency
                let consumer = BatchingConsumer(
                    queue: Topology.Queue(name: queue, bindings: ["practice.#"], exchange: exchange.name, expiresAfter: .seconds(900)),
                    consumerConnection: connection, publisher: connection, handler: handler,
                    configuration: configuration, isTransient: PostgresFailure.isTransient, logger: TestEnvironment.logger
                )
                let harness = PracticeHarness(organisationID: organisationID, exchange: exchange, database: database)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await consumer.run() }
                    group.addTask { try await announcer.run() }
                    defer { group.cancelAll() }
                    if createOrganisation {
                        try await harness.publish(.organisationUpserted, OrganisationUpserted(name: "Test practice", loggingEnabled: loggingEnabled))
                    }
                    try await body(harness)
                }
            }
        }
    }

    /// Publishes an event of the harness's organisation; returns its id.
    @discardableResult
    func publish<Payload: Encodable & Sendable>(_ type: EventType, _ data: Payload, id: String = UUID().uuidString.lowercased(), at time: Date = Date()) async throws -> String {
        try await exchange.publish(EventEnvelope(type: type, organisationID: organisationID, data: data, id: id, occurredAt: time))
        return id
    }

    /// Waits until the organisation has `count` entries (and a moment more, to catch extra ones), and returns them.
    func entries(count: Int, settle: Duration = .milliseconds(300)) async throws -> [Entry] {
        try await waitUntil("\(count) entries logged") { try await self.entries().count >= count }
        try await Task.sleep(for: settle)
        return try await entries()
    }

    /// Waits until `condition` holds for the organisation's entries.
    func entries(where condition: ([Entry]) -> Bool) async throws -> [Entry] {
        try await eventually(reading: entries, until: condition)
    }

    func entries() async throws -> [Entry] {
        try await database.withTenant(organisationID) { connection in
            var entries: [Entry] = []
            let rows = try await connection.query("""
                SELECT id, type, direction, status, client_id, patient_id, location_id, author_staff_id, reason, address,
                       subject, notes, content, source, source_ref, template, reminder_type, reminder_count, show_in_patient_history
                FROM communications ORDER BY occurred_at, created_at
                """, logger: database.logger)
            for try await row in rows {
                let r = row.makeRandomAccess()
                entries.append(Entry(
                    id: try r[0].decode(UUID.self), type: try r[1].decode(String.self), direction: try r[2].decode(String?.self),
                    status: try r[3].decode(String.self), clientID: try r[4].decode(String?.self), patientID: try r[5].decode(String?.self),
                    locationID: try r[6].decode(String?.self), authorStaffID: try r[7].decode(String?.self), reason: try r[8].decode(String?.self),
                    address: try r[9].decode(String?.self), subject: try r[10].decode(String?.self), notes: try r[11].decode(String?.self),
                    content: try r[12].decode(String?.self), source: try r[13].decode(String.self), sourceRef: try r[14].decode(String.self),
                    template: try r[15].decode(String?.self), reminderType: try r[16].decode(String?.self), reminderCount: try r[17].decode(Int?.self),
                    showInPatientHistory: try r[18].decode(Bool.self)
                ))
            }
            for index in entries.indices {
                let participants = try await connection.query("""
                    SELECT role, kind, ref_id, address, name FROM participants WHERE communication_id = \(entries[index].id) ORDER BY position
                    """, logger: database.logger)
                for try await (role, kind, id, address, name) in participants.decode((String, String, String?, String?, String?).self) {
                    entries[index].participants.append(Participant(role: ParticipantRole(rawValue: role)!, kind: ParticipantKind(rawValue: kind)!, id: id, address: address, name: name))
                }
                let attachments = try await connection.query("""
                    SELECT name, content_type, size, document_owner, document_id FROM attachments WHERE communication_id = \(entries[index].id) ORDER BY position
                    """, logger: database.logger)
                for try await attachment in attachments.decode((String, String, Int, String?, String?).self) {
                    entries[index].attachments.append(attachment)
                }
            }
            return entries
        }
    }

    /// Runs a query in the organisation's transaction and returns the first column of each row.
    func strings(_ query: PostgresQuery) async throws -> [String] {
        try await database.withTenant(organisationID) { connection in
            var values: [String] = []
            for try await value in try await connection.query(query, logger: database.logger).decode(String.self) { values.append(value) }
            return values
        }
    }
}
