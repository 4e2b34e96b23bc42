import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension ReminderLoggerProcesses {
    /// What the real program counts in `commlog_practice_events_total`, read from its /metrics.
    @Suite("reminder-logger: event metrics")
    struct MetricsTests {
        @Test("logged, duplicate, skipped (channel, logging off) and statements are counted, each event once")
        func counted() async throws {
            let organisation = TestEnvironment.unique("org-metrics")
            let port = freePort()
            let program = try ProgramProcess("reminder-logger", environment: ["COMMLOG_HTTP_PORT": "\(port)"])
            try await TestEnvironment.withConnection(name: "test-metrics") { connection in
                // The queue as the program declares it, so that no event is published before it exists.
                try await connection.declare(.commlog(queues: [Topology.Queue(name: CommlogQueues.practice.name, bindings: CommlogQueues.practice.bindings)]))
                func publish(_ type: EventType, _ data: some EventPayload & Encodable, id: String = UUID().uuidString.lowercased()) async throws {
                    try await connection.publish(EventEnvelope(type: type, organisationID: organisation, data: data, id: id).outgoing())
                }
                func reminder(_ channel: ReminderChannel, location: String = "on") -> ReminderSent {
                    ReminderSent(locationID: location, clientID: "c-1", channel: channel, address: channel == .sms ? "+61412345678" : "ann@example.org",
                                 kind: .patient, reminderType: "Vaccination", reminderCount: 1, subject: "Due", content: "Dear Ann")
                }
                try await publish(.organisationUpserted, OrganisationUpserted(name: "Metrics"))
                try await publish(.locationUpserted, LocationUpserted(locationID: "on", name: "On", loggingEnabled: true))
                try await publish(.locationUpserted, LocationUpserted(locationID: "off", name: "Off", loggingEnabled: false))
                try await publish(.reminderSent, reminder(.email), id: "\(organisation)-twice")
                try await publish(.reminderSent, reminder(.email), id: "\(organisation)-twice")
                try await publish(.reminderSent, reminder(.phone))
                try await publish(.reminderSent, reminder(.export))
                try await publish(.reminderSent, reminder(.sms, location: "off"))
                try await publish(.statementSent, StatementSent(clientID: "c-1"))
            }
            let expected = [
                ("practice.reminder.sent", "logged", 1), ("practice.reminder.sent", "duplicate", 1),
                ("practice.reminder.sent", "skipped_channel", 2), ("practice.reminder.sent", "skipped_logging_off", 1),
                ("practice.statement.sent", "statement", 1), ("practice.directory.location.upserted", "directory", 2),
            ]
            var lines: [Substring] = []
            let counted = await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                // Refused until the program listens.
                guard let (body, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return false }
                lines = String(decoding: body, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("commlog_practice_events_total{") }
                return expected.allSatisfy { type, outcome, count in Self.value(in: lines, type: type, outcome: outcome) == count }
            }
            await program.kill(SIGTERM)
            #expect(counted, "\(lines)")
        }

        /// The counter's value for one type and outcome, whatever the order of the labels.
        static func value(in lines: [Substring], type: String, outcome: String) -> Int? {
            lines.first { $0.contains("type=\"\(type)\"") && $0.contains("outcome=\"\(outcome)\"") }
                .flatMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        }
    }
}
