import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import LogStore
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
    func entries(count: Int, settle: Duration = .milliseconds(300)) async throws -> [StoredEntry] {
        try await waitUntil("\(count) entries logged") { try await self.entries().count >= count }
        try await Task.sleep(for: settle)
        return try await entries()
    }

    /// Waits until `condition` holds for the organisation's entries.
    func entries(where condition: ([StoredEntry]) -> Bool) async throws -> [StoredEntry] {
        try await eventually(reading: entries, until: condition)
    }

    /// The organisation's entries as the log reads them back, oldest first.
    func entries() async throws -> [StoredEntry] {
        try await database.withTenant(organisationID) { connection in
            try await EntryReader(connection: connection, logger: database.logger).entries()
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
