import Testing

@testable import Messaging

/// Publishes across reconnects: what is sent again and in what order, how returns, nacks and deadlines end a publish.
extension ConnectionStateMachineTests {
    @Test("on a lost connection unconfirmed messages are sent again, ahead of those not sent yet; confirmed ones are not")
    func resend() {
        var machine = Self.machine()
        let deadline = Self.at(.seconds(60))
        #expect(machine.publishSubmitted(Self.messages("a0", "a1", "a2"), deadline: deadline, waiter: "a") == nil)
        #expect(Self.flushed(&machine).isEmpty)  // no connection yet: they wait
        Self.connect(&machine)
        #expect(Self.flushed(&machine) == ["1:a0", "2:a1", "3:a2"])
        #expect(machine.confirmed(tag: 1, multiple: false, acknowledged: true).isEmpty)
        #expect(machine.publishSubmitted(Self.messages("b0"), deadline: deadline, waiter: "b") == nil)

        _ = machine.connectionLost(now: Self.start)
        #expect(machine.confirmed(tag: 2, multiple: false, acknowledged: true).isEmpty)  // an old tag means nothing now
        Self.connect(&machine)
        #expect(Self.flushed(&machine) == ["1:a1", "2:a2", "3:b0"])  // publish tags start over on the new channel
        let completed = machine.confirmed(tag: 3, multiple: true, acknowledged: true)
        #expect(completed.map(\.waiter) == ["a", "b"])
        #expect(completed.map(\.error) == [nil, nil])
        #expect(Self.flushed(&machine).isEmpty)
    }

    @Test("a returned message fails its publish as unroutable and a nacked one as rejected, once all are confirmed")
    func failedConfirms() {
        var machine = Self.machine()
        Self.connect(&machine)
        let deadline = Self.at(.seconds(60))
        _ = machine.publishSubmitted(Self.messages("nowhere", "fine"), deadline: deadline, waiter: "returned")
        _ = machine.publishSubmitted(Self.messages("refused"), deadline: deadline, waiter: "nacked")
        #expect(Self.flushed(&machine) == ["1:nowhere", "2:fine", "3:refused"])
        machine.returned(tag: 1, reason: "312 NO_ROUTE")
        #expect(machine.confirmed(tag: 1, multiple: false, acknowledged: true).isEmpty)  // "fine" is still unconfirmed
        let nacked = machine.confirmed(tag: 3, multiple: false, acknowledged: false)
        #expect(nacked.map(\.waiter) == ["nacked"])
        #expect(nacked.first?.error == AMQPError(.publishRejected, "the broker refused refused"))
        let returned = machine.confirmed(tag: 2, multiple: false, acknowledged: true)
        #expect(returned.map(\.waiter) == ["returned"])
        #expect(returned.first?.error == AMQPError(.unroutable, "nowhere: 312 NO_ROUTE"))

        // A return belongs to its connection: the message sent again on the next one is judged afresh.
        _ = machine.publishSubmitted(Self.messages("late-queue"), deadline: deadline, waiter: "again")
        #expect(Self.flushed(&machine) == ["4:late-queue"])
        machine.returned(tag: 4, reason: "312 NO_ROUTE")
        _ = machine.connectionLost(now: Self.start)
        Self.connect(&machine)
        #expect(Self.flushed(&machine) == ["1:late-queue"])
        let again = machine.confirmed(tag: 1, multiple: false, acknowledged: true)
        #expect(again.map(\.waiter) == ["again"] && again.first?.error == nil)
    }

    @Test("a publish the broker refuses (no permission for its routing key) fails and is not sent again; the others go round again")
    func refusedPublish() {
        var machine = Self.machine()
        Self.connect(&machine)
        let deadline = Self.at(.seconds(60))
        _ = machine.publishSubmitted(Self.messages("allowed"), deadline: deadline, waiter: "innocent")
        _ = machine.publishSubmitted(Self.messages("forbidden", "fine"), deadline: deadline, waiter: "guilty")
        #expect(Self.flushed(&machine) == ["1:allowed", "2:forbidden", "3:fine"])
        let refusal = AMQPError(.publishRefused, "the broker refused a publish: 403 ACCESS_REFUSED - access to topic 'forbidden' in exchange 'commlog.events'")
        let refused = machine.refuseInFlight(refusal)
        #expect(refused.map(\.waiter) == ["guilty"] && refused.first?.error == refusal)
        _ = machine.connectionLost(now: Self.start)
        Self.connect(&machine)
        #expect(Self.flushed(&machine) == ["1:allowed"])

        // A refusal that names none of them (an unknown wording) fails every publish in flight: none loops for ever.
        _ = machine.publishSubmitted(Self.messages("other"), deadline: deadline, waiter: "other")
        #expect(Self.flushed(&machine) == ["2:other"])
        let unnamed = machine.refuseInFlight(AMQPError(.publishRefused, "404 NOT_FOUND - something else"))
        #expect(Set(unnamed.map(\.waiter)) == ["innocent", "other"])
    }

    @Test("a publish past its deadline fails with timeout once, and its messages are not sent again")
    func timeout() {
        var machine = Self.machine()
        _ = machine.publishSubmitted(Self.messages("x0", "x1"), deadline: Self.at(.seconds(5)), waiter: "waiting")
        _ = machine.publishSubmitted(Self.messages("y0"), deadline: Self.at(.seconds(60)), waiter: "later")
        #expect(machine.pollTimeout(now: Self.at(.milliseconds(4800))) == .zero)  // the first attempt is overdue
        #expect(machine.expire(now: Self.at(.milliseconds(4999))).isEmpty)
        let expired = machine.expire(now: Self.at(.seconds(5)))
        #expect(expired.map(\.waiter) == ["waiting"])
        #expect(expired.first?.error == AMQPError(.timeout, "the broker did not confirm 2 of 2 messages in time"))
        Self.connect(&machine)
        #expect(machine.pollTimeout(now: Self.at(.milliseconds(59_700))) == .milliseconds(300))
        #expect(Self.flushed(&machine) == ["1:y0"])
        #expect(machine.expire(now: Self.at(.seconds(60))).first?.error == AMQPError(.timeout, "the broker did not confirm 1 of 1 messages in time"))
        #expect(machine.confirmed(tag: 1, multiple: false, acknowledged: true).isEmpty)  // its waiter heard already
    }

    @Test("a 10,000-message publish confirmed tag by tag, out of order, completes once")
    func largePublish() {
        var machine = Self.machine()
        Self.connect(&machine)
        _ = machine.publishSubmitted((0..<10_000).map { Self.messages("m\($0)")[0] }, deadline: Self.at(.seconds(60)), waiter: "large")
        #expect(machine.flush().count == 10_000)
        var completed: [String] = []
        for tag in stride(from: UInt64(2), through: 10_000, by: 2) {
            completed += machine.confirmed(tag: tag, multiple: false, acknowledged: true).map(\.waiter)
            completed += machine.confirmed(tag: tag - 1, multiple: false, acknowledged: true).map(\.waiter)
        }
        #expect(completed == ["large"])
    }
}
