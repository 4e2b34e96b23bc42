@testable import CallBridge
import CommlogDomain
import Foundation
import LogStore
import Storage
import Testing
import TestSupport

/// The figure behind the "calls open for hours" alert, against the real database.
@Suite("call-bridge: calls open for hours")
struct OpenCallsGaugeTests {
    @Test("an organisation counts once it has a call open for longer than the hours given, and not before")
    func counted() async throws {
        try await TestEnvironment.withDatabase { database in
            let organisation = TestEnvironment.unique("org-open-calls")
            // Long ago, so that no other test's calls are that old (earlier runs of this test left theirs: counted first).
            let started = Date(timeIntervalSince1970: 631_152_000)
            let gauge = OpenCallsGauge(database: database, hours: 4, logger: database.logger)
            let before = (early: try await gauge.count(now: started.addingTimeInterval(3 * 3600)), late: try await gauge.count(now: started.addingTimeInterval(5 * 3600)))
            try await database.withTenant(organisation) { connection in
                _ = try await CommunicationWriter.insert([NewCommunication(
                    organisationID: organisation, type: .phone, direction: .inbound, status: .open, occurredAt: started,
                    source: .phone, sourceRef: "generic:open-for-hours"
                )], on: connection, logger: database.logger)
            }
            #expect(try await gauge.count(now: started.addingTimeInterval(3 * 3600)) == before.early)
            #expect(try await gauge.count(now: started.addingTimeInterval(5 * 3600)) == before.late + 1)
        }
    }
}
