import CommlogDomain
import Testing
import TestSupport

@Suite("reminder-logger: events that can never be processed")
struct MalformedEventTests {
    @Test("bad JSON, a missing field, an unknown type and an unknown organisation are dead-lettered with their reasons, and the queue moves on")
    func deadLettered() async throws {
        try await PracticeHarness.run { harness in
            let badJSON = TestEnvironment.unique("bad-json")
            try await harness.exchange.publishRaw("{not json", routingKey: "practice.sms.sent", messageID: badJSON)

            let missing = TestEnvironment.unique("missing")
            try await harness.exchange.publishRaw("""
                {"id":"\(missing)","type":"practice.sms.sent","version":1,"occurred_at":"2026-11-25T09:30:00Z",
                 "organisation_id":"\(harness.organisationID)","data":{"to":"+61412345678"}}
                """, routingKey: "practice.sms.sent", messageID: missing)

            let unknownType = TestEnvironment.unique("unknown-type")
            try await harness.exchange.publishRaw("""
                {"id":"\(unknownType)","type":"practice.fax.sent","version":1,"occurred_at":"2026-11-25T09:30:00Z",
                 "organisation_id":"\(harness.organisationID)","data":{}}
                """, routingKey: "practice.fax.sent", messageID: unknownType)

            let stranger = TestEnvironment.unique("stranger")
            try await harness.exchange.publish(EventEnvelope(
                type: .smsSent, organisationID: TestEnvironment.unique("no-such-org"),
                data: SMSSent(clientID: "c-1", to: "+61412345678", text: "hi"), id: stranger
            ))

            let good = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61412345678", text: "still logged"))
            #expect(try await harness.entries(count: 1).map(\.sourceRef) == [good])

            let reasons = [
                badJSON: "not valid JSON",
                missing: "data.text: is required",
                unknownType: "unknown event type \"practice.fax.sent\"",
                stranger: "unknown organisation",
            ]
            for (id, expected) in reasons {
                let letter = try await DeadLetterProbe.waitFor(messageID: id)
                #expect(letter.reason.contains(expected), "\(id): \(letter.reason)")
                #expect(letter.queue.hasPrefix("test.practice"))
            }
        }
    }
}
