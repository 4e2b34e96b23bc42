import CommlogDomain
import Foundation
import PhoneNumbers
import Testing
@testable import CallBridge

@Suite struct PhoneNumberTests {
    @Test func e164() {
        #expect(PhoneNumber.e164("0412 345 678", region: "AU") == "+61412345678")
        #expect(PhoneNumber.e164("+61 (0)3 9000 1000") == "+61390001000")
        #expect(PhoneNumber.e164("(020) 7946 0958", region: "GB") == "+442079460958")
        #expect(PhoneNumber.e164("0412 345 678") == nil)
        #expect(PhoneNumber.e164("hello") == nil)
        #expect(PhoneNumber.isSupportedRegion("AU"))
        #expect(!PhoneNumber.isSupportedRegion("XX"))
    }
}

@Suite struct CallFactsTests {
    func event(_ seq: Int, _ kind: CallKind, ext: String? = nil, outcome: CallOutcome? = nil, duration: Int? = nil, at seconds: Int) -> PhoneCallEvent {
        PhoneCallEvent(source: "generic", callID: "c", seq: seq, kind: kind, direction: .inbound, from: "+61412345678", to: "+61390001000",
                       phoneExtension: ext, outcome: outcome, durationSeconds: duration, occurredAt: Date(timeIntervalSince1970: TimeInterval(1_000 + seconds)))
    }

    @Test("any order and any duplicates give the same facts")
    func orderIndependent() throws {
        let events = [event(1, .ringing, ext: "200", at: 0), event(2, .answered, ext: "201", at: 3), event(3, .answered, ext: "202", at: 20),
                      event(4, .ended, outcome: .answered, duration: 50, at: 53)]
        let expected = try #require(CallFacts(events))
        for _ in 0..<50 {
            let shuffled = (events + events.prefix(Int.random(in: 0...4))).shuffled()
            #expect(CallFacts(shuffled) == expected)
        }
        #expect(expected.extensions == ["201", "202"])
        #expect(expected.answeredAt == Date(timeIntervalSince1970: 1_003))
        #expect(!expected.closesAtOnce)
    }

    @Test("an end without outcome is missed when nobody answered, and the ringing extension handles it")
    func inferredOutcome() throws {
        let facts = try #require(CallFacts([event(1, .ringing, ext: "200", at: 0), event(2, .ended, at: 10)]))
        #expect(facts.outcome == .missed)
        #expect(facts.closesAtOnce)
        #expect(facts.extensions == ["200"])
        #expect(facts.durationSeconds == 0)
    }
}

@Suite struct TwilioCallbackTests {
    @Test func statuses() throws {
        let base = ["CallSid": "CA1", "From": "+61412345678", "To": "+61390001000", "Direction": "outbound-api"]
        let ringing = try #require(try TwilioCallback.event(base.merging(["CallStatus": "ringing"]) { $1 }))
        #expect(ringing.kind == .ringing && ringing.direction == .outbound && ringing.seq == 1)
        let busy = try #require(try TwilioCallback.event(base.merging(["CallStatus": "busy"]) { $1 }))
        #expect(busy.kind == .ended && busy.outcome == .busy)
        let done = try #require(try TwilioCallback.event(base.merging(["CallStatus": "completed", "CallDuration": "12"]) { $1 }))
        #expect(done.durationSeconds == 12 && done.outcome == .answered)
        #expect(try TwilioCallback.event(base.merging(["CallStatus": "queued"]) { $1 }) == nil)
        #expect(throws: TwilioCallback.Invalid.self) { try TwilioCallback.event(base.merging(["CallStatus": "teleported"]) { $1 }) }
        let recorded = try TwilioCallback.events(base.merging(["CallStatus": "completed", "CallDuration": "12", "RecordingUrl": "https://api.twilio.com/r/RE1"]) { $1 })
        #expect(recorded.map(\.kind) == [.ended, .recording])
        #expect(throws: TwilioCallback.Invalid.self) { try TwilioCallback.events(["CallSid": "CA1"]) }
        #expect(TwilioCallback.form("A=1&B=%2B61+4&C=") == ["A": "1", "B": "+61 4", "C": ""])
    }
}

@Suite struct RecordingHostTests {
    @Test func allowList() {
        var sources = RecordingSources()
        #expect(sources.allows("169.254.169.254"))
        sources.allowedHosts = ["api.twilio.com", ".recordings.example.org"]
        #expect(sources.allows("api.twilio.com"))
        #expect(sources.allows("API.Twilio.com."))
        #expect(sources.allows("eu1.recordings.example.org"))
        #expect(sources.allows("recordings.example.org"))
        #expect(!sources.allows("evil-recordings.example.org"))
        #expect(!sources.allows("169.254.169.254"))
        #expect(sources.names("api.twilio.com"))
        #expect(!sources.names("eu1.recordings.example.org"))
    }
}
