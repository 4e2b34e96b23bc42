import CommlogDomain
import CommlogRuntime
import Messaging
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

    @Test("with COMMLOG_AMQP_PUBLISHERS, an event is taken only from a broker user that may publish for its organisation")
    func publishers() async throws {
        let user = try AMQPConfiguration(url: try TestEnvironment.variable("COMMLOG_AMQP_URL")).user
        let organisation = TestEnvironment.unique("org")
        // The test's connection publishes as `user`; it serves the harness's organisation only.
        let policy = PublisherPolicy(users: [user: [organisation], "someone-else": nil])
        try await PracticeHarness.run(createOrganisation: false, publishers: policy, organisationID: organisation) { harness in
            try await harness.publish(.organisationUpserted, OrganisationUpserted(name: "Mine"))
            let foreign = TestEnvironment.unique("foreign")
            try await harness.exchange.publish(EventEnvelope(
                type: .smsSent, organisationID: TestEnvironment.unique("org-not-mine"),
                data: SMSSent(clientID: "c-1", to: "+61412345678", text: "forged"), id: foreign
            ))
            let mine = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61412345678", text: "mine"))
            _ = try await harness.entries(count: 1)
            let letter = try await DeadLetterProbe.waitFor(messageID: foreign)
            #expect(letter.reason.contains("may not publish for organisation"), "\(letter.reason)")
            #expect(try await harness.entries(count: 1).map(\.sourceRef) == [mine])
        }
        let strangers = PublisherPolicy(users: ["someone-else": nil])
        try await PracticeHarness.run(publishers: strangers) { harness in
            let refused = try await harness.publish(.smsSent, SMSSent(clientID: "c-1", to: "+61412345678", text: "refused"))
            let letter = try await DeadLetterProbe.waitFor(messageID: refused)
            #expect(letter.reason.contains("broker user \(user) may not publish events"), "\(letter.reason)")
        }
    }

    @Test("COMMLOG_AMQP_PUBLISHERS is read, and refused when it names nobody or no organisation")
    func publisherPolicy() throws {
        let policy = try PublisherPolicy(parsing: " practice-a = org-1 | org-2 , commlog=* ")
        #expect(policy.users?["practice-a"] == .some(["org-1", "org-2"]))
        #expect(policy.users?["commlog"] == .some(nil))
        #expect(policy.refusal(userID: "commlog", for: "org-9") == nil)
        #expect(policy.refusal(userID: "practice-a", for: "org-2") == nil)
        #expect(policy.refusal(userID: "practice-a", for: "org-3") != nil)
        #expect(policy.refusal(userID: nil, for: "org-1") != nil)
        #expect(PublisherPolicy.open.refusal(userID: nil, for: "org-1") == nil)
        for bad in ["", "practice-a", "practice-a=", "=org-1"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try PublisherPolicy(parsing: bad) }
        }
    }
}
