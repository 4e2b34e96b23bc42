import CommlogDomain
import Testing
import TestSupport

@Suite("reminder-logger: the logging switch")
struct LoggingSwitchTests {
    static func sms(at location: String) -> SMSSent {
        SMSSent(locationID: location, clientID: "c-1", to: "+61412345678", text: "at \(location)")
    }

    @Test("a location's switch wins; a location without one follows the organisation")
    func locationOverridesOrganisation() async throws {
        try await PracticeHarness.run(loggingEnabled: false) { harness in
            try await harness.publish(.locationUpserted, LocationUpserted(locationID: "on", name: "On", loggingEnabled: true))
            try await harness.publish(.locationUpserted, LocationUpserted(locationID: "off", name: "Off", loggingEnabled: false))
            try await harness.publish(.locationUpserted, LocationUpserted(locationID: "follow", name: "Follow", loggingEnabled: nil))
            try await harness.publish(.smsSent, Self.sms(at: "off"))
            try await harness.publish(.smsSent, Self.sms(at: "follow"))
            try await harness.publish(.smsSent, Self.sms(at: "unknown-location"))
            let logged = try await harness.publish(.smsSent, Self.sms(at: "on"))
            let entries = try await harness.entries(count: 1, settle: .milliseconds(500))
            #expect(entries.map(\.sourceRef) == [logged])
        }
    }

    @Test("with the organisation's logging on, a location switched off is skipped and the rest logged")
    func organisationOn() async throws {
        try await PracticeHarness.run(loggingEnabled: true) { harness in
            try await harness.publish(.locationUpserted, LocationUpserted(locationID: "off", name: "Off", loggingEnabled: false))
            try await harness.publish(.smsSent, Self.sms(at: "off"))
            let follow = try await harness.publish(.smsSent, Self.sms(at: "follow"))
            let entries = try await harness.entries(count: 1, settle: .milliseconds(500))
            #expect(entries.map(\.sourceRef) == [follow])
        }
    }

    @Test("switching a location's logging back on logs what comes after")
    func switchBackOn() async throws {
        try await PracticeHarness.run { harness in
            try await harness.publish(.locationUpserted, LocationUpserted(locationID: "l", name: "L", loggingEnabled: false))
            try await harness.publish(.smsSent, Self.sms(at: "l"))
            _ = try await harness.entries(count: 0, settle: .milliseconds(300))
            try await harness.publish(.locationUpserted, LocationUpserted(locationID: "l", name: "L", loggingEnabled: true))
            let after = try await harness.publish(.smsSent, Self.sms(at: "l"))
            let entries = try await harness.entries(count: 1, settle: .milliseconds(500))
            #expect(entries.map(\.sourceRef) == [after])
        }
    }
}
