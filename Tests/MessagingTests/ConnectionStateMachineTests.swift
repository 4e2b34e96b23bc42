import Testing

@testable import Messaging

/// The connection's decisions, driven by events without a broker: backoff, generations, what is replayed and re-sent
/// after a reconnect, shutdown, and the closed state. Publishes are waited for by strings here, not continuations.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine<String>

    static let start = ContinuousClock.now

    static func at(_ duration: Duration) -> ContinuousClock.Instant { start.advanced(by: duration) }

    static func machine(brokerMajorVersion: Int? = nil) -> Machine {
        var configuration = AMQPConfiguration(host: "broker", user: "u", password: "p")
        configuration.minimumReconnectDelay = .milliseconds(250)
        configuration.maximumReconnectDelay = .seconds(2)
        configuration.brokerMajorVersion = brokerMajorVersion
        return Machine(configuration: configuration, now: start)
    }

    static func messages(_ keys: String...) -> [OutgoingMessage] {
        keys.map { OutgoingMessage(exchange: Topology.eventsExchange, routingKey: $0, body: Array($0.utf8)) }
    }

    static func consumer(_ id: Int) -> ConsumerRegistration {
        ConsumerRegistration(id: id, queue: "queue-\(id)", prefetch: 10, buffer: DeliveryBuffer())
    }

    /// Connects as soon as the next attempt is due, and finishes the replay.
    @discardableResult
    static func connect(_ machine: inout Machine, serverVersion: String? = "4.1.0") -> Machine.Replay {
        let due = machine.tick(now: at(.seconds(3600)))
        #expect(due)
        let replay = machine.connectSucceeded(serverVersion: serverVersion)
        _ = machine.replayFinished()
        return replay
    }

    /// The keys of what a flush sends, with their publish tags.
    static func flushed(_ machine: inout Machine) -> [String] {
        machine.flush().map { "\($0.tag):\($0.message.routingKey)" }
    }

    // MARK: Reconnecting

    @Test("reconnect delays double from the minimum to the maximum, and start over once a connect succeeds")
    func backoff() {
        var machine = Self.machine()
        let due = machine.tick(now: Self.start)
        #expect(due)  // the first attempt is due at once
        #expect(machine.state == .connecting(failedAttempts: 0))
        var delays: [Duration] = []
        var now = Self.start
        for attempt in 1...6 {
            let reconnect = machine.connectFailed(now: now)
            #expect(reconnect.failedAttempts == attempt)
            #expect(machine.state == .disconnected(nextAttempt: now.advanced(by: reconnect.delay), failedAttempts: attempt))
            let early = machine.tick(now: now.advanced(by: reconnect.delay - .milliseconds(1)))
            #expect(!early)
            #expect(machine.pollTimeout(now: now) == min(reconnect.delay, .seconds(1)))
            delays.append(reconnect.delay)
            now = now.advanced(by: reconnect.delay)
            let onTime = machine.tick(now: now)
            #expect(onTime)
        }
        #expect(delays == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(2), .seconds(2)])

        _ = machine.connectSucceeded(serverVersion: nil)
        #expect(machine.replayFinished() == 6)  // the loop logs that it is back after 6 attempts
        #expect(machine.connectionLost(now: now) == Machine.Reconnect(delay: .milliseconds(250), failedAttempts: 1))
    }

    @Test("a connection lost while it replays counts as one more failed attempt")
    func lostWhileReplaying() {
        var machine = Self.machine()
        _ = machine.tick(now: Self.start)
        _ = machine.connectFailed(now: Self.start)
        let due = machine.tick(now: Self.at(.seconds(1)))
        #expect(due)
        _ = machine.connectSucceeded(serverVersion: nil)
        #expect(machine.connectionLost(now: Self.at(.seconds(1))) == Machine.Reconnect(delay: .milliseconds(500), failedAttempts: 2))
        #expect(machine.connectionLost(now: Self.at(.seconds(1))) == nil)  // nothing open: nothing to lose
    }

    @Test("failures are warned about the first three times, then every tenth")
    func reconnectWarnings() {
        let warned = (1...30).filter { Machine.Reconnect(delay: .seconds(1), failedAttempts: $0).isWorthAWarning }
        #expect(warned == [1, 2, 3, 10, 20, 30])
    }

    @Test("the broker's major version is the configured one, else the broker's own")
    func brokerVersion() {
        var configured = Self.machine(brokerMajorVersion: 3)
        Self.connect(&configured, serverVersion: "4.1.0")
        #expect(configured.brokerMajorVersion == 3)
        var told = Self.machine()
        Self.connect(&told, serverVersion: "4.0.2")
        #expect(told.state == .connected(generation: 1, brokerMajorVersion: 4))
        var silent = Self.machine()
        Self.connect(&silent, serverVersion: nil)
        #expect(silent.brokerMajorVersion == nil)
    }

    // MARK: Generations and replay

    @Test("every connection is a new generation: an older one's settlements and deliveries have no taker, channels start over")
    func generations() {
        var machine = Self.machine()
        #expect(machine.consumeSubmitted(Self.consumer(1)) == .wait)
        #expect(machine.consumeSubmitted(Self.consumer(2)) == .wait)
        #expect(!machine.acceptsSettlement(channel: 3, generation: 0))
        let first = Self.connect(&machine)
        #expect(first.generation == 1)
        #expect(first.consumers.map { "\($0.registration.id)@\($0.channel)" } == ["1@3", "2@4"])
        #expect(machine.acceptsSettlement(channel: 3, generation: 1))
        #expect(!machine.acceptsSettlement(channel: 5, generation: 1))  // no consumer there
        #expect(machine.consumer(onChannel: 4).map { "\($0.registration.id).\($0.generation)" } == "2.1")

        _ = machine.connectionLost(now: Self.start)
        #expect(!machine.acceptsSettlement(channel: 3, generation: 1))
        #expect(machine.consumer(onChannel: 3) == nil)
        let second = Self.connect(&machine)
        #expect(second.generation == 2)
        #expect(second.consumers.map { "\($0.registration.id)@\($0.channel)" } == ["1@3", "2@4"])
        #expect(!machine.acceptsSettlement(channel: 3, generation: 1))  // the broker requeued those deliveries already
        #expect(machine.acceptsSettlement(channel: 3, generation: 2))
    }

    @Test("declared topology and running consumers are replayed on a new connection; deleted queues and ended consumers are not")
    func replay() throws {
        var machine = Self.machine()
        Self.connect(&machine)
        let events = Topology(queues: [.init(name: "q1", bindings: ["a"]), .init(name: "q2", bindings: ["b"])])
        let refused = Topology(queues: [.init(name: "refused", bindings: [])])
        let operations: [(Machine.ControlOperation, succeeds: Bool)] = [(.declare(events), true), (.declare(refused), false), (.deleteQueue("q2"), true)]
        for (operation, succeeds) in operations {
            #expect(machine.controlSubmitted(operation, ControlRequest()) == nil)
            #expect(machine.nextControl() != nil)
            if succeeds { machine.controlSucceeded() } else { machine.controlFailed() }
        }
        #expect(machine.nextControl() == nil)
        #expect(machine.consumeSubmitted(Self.consumer(1)) == .start(channel: 3))
        #expect(machine.consumeSubmitted(Self.consumer(2)) == .start(channel: 4))
        #expect(machine.consumeSubmitted(Self.consumer(3)) == .start(channel: 5))
        #expect(machine.consumeSubmitted(Self.consumer(4)) == .start(channel: 6))
        #expect(machine.consumerFailed(id: 3)?.id == 3)  // the broker refused it
        let cancel = machine.cancelConsumer(id: 2)
        let cancelled = try #require(cancel)
        #expect(cancelled.registration.id == 2 && cancelled.closeChannel == 4)
        #expect(machine.consumerCancelled(onChannel: 6)?.id == 4)  // the broker deleted its queue
        #expect(machine.cancelConsumer(id: 2) == nil)

        // A declare cut short by the lost connection stays first in line for the next one.
        let interrupted = ControlRequest()
        #expect(machine.controlSubmitted(.declare(Topology(queues: [.init(name: "q3", bindings: [])])), interrupted) == nil)
        #expect(machine.nextControl()?.request === interrupted)
        _ = machine.connectionLost(now: Self.start)
        #expect(machine.nextControl() == nil)  // not without a connection
        let replay = Self.connect(&machine)
        #expect(replay.topologies.map { $0.queues.map(\.name) } == [["q1"]])
        #expect(replay.consumers.map { "\($0.registration.id)@\($0.channel)" } == ["1@3"])
        #expect(machine.nextControl()?.request === interrupted)
        interrupted.complete(throwing: CancellationError())  // its task gave up: skipped
        #expect(machine.nextControl() == nil)
    }

    // MARK: Shutting down

    @Test("shutdown while connected closes the connection, fails what waits and ends consumers; a second one has nothing to do")
    func shutdownConnected() throws {
        var machine = Self.machine()
        Self.connect(&machine)
        _ = machine.consumeSubmitted(Self.consumer(1))
        _ = machine.publishSubmitted(Self.messages("sent"), deadline: Self.at(.seconds(60)), waiter: "in flight")
        _ = machine.flush()
        _ = machine.publishSubmitted(Self.messages("queued"), deadline: Self.at(.seconds(60)), waiter: "unsent")
        let declare = ControlRequest()
        _ = machine.controlSubmitted(.deleteQueue("q"), declare)

        let requested = machine.shutdownRequested()
        let shutdown = try #require(requested)
        #expect(shutdown.closeConnection)
        #expect(shutdown.error == AMQPError(.shutdown, "the connection is shutting down"))
        #expect(Set(shutdown.publishes) == ["in flight", "unsent"])
        #expect(shutdown.controls.count == 1 && shutdown.controls.first === declare)
        #expect(shutdown.consumers.map(\.id) == [1])
        #expect(machine.state == .closed)
        #expect(machine.shutdownRequested() == nil)
        #expect(machine.expire(now: Self.at(.seconds(3600))).isEmpty)  // every waiter was handed back once
    }

    @Test("shutdown while disconnected or connecting has no connection to close, and fails what waits")
    func shutdownDisconnected() throws {
        var reconnecting = Self.machine()
        _ = reconnecting.tick(now: Self.start)
        _ = reconnecting.connectFailed(now: Self.start)
        _ = reconnecting.publishSubmitted(Self.messages("k"), deadline: Self.at(.seconds(60)), waiter: "p")
        _ = reconnecting.consumeSubmitted(Self.consumer(7))
        let requested = reconnecting.shutdownRequested()
        let shutdown = try #require(requested)
        #expect(!shutdown.closeConnection)
        #expect(shutdown.publishes == ["p"] && shutdown.consumers.map(\.id) == [7] && shutdown.controls.isEmpty)
        #expect(reconnecting.shutdownRequested() == nil)

        var connecting = Self.machine()
        _ = connecting.tick(now: Self.start)
        #expect(connecting.state == .connecting(failedAttempts: 0))
        #expect(connecting.shutdownRequested()?.closeConnection == false)
        #expect(connecting.state == .closed)
    }

    @Test("once closed every job fails at once, nothing is settled and nothing connects")
    func closed() {
        var machine = Self.machine()
        Self.connect(&machine)
        _ = machine.consumeSubmitted(Self.consumer(1))
        _ = machine.shutdownRequested()
        #expect(machine.publishSubmitted(Self.messages("k"), deadline: Self.at(.seconds(60)), waiter: "late") == .connectionClosed)
        #expect(machine.controlSubmitted(.deleteQueue("q"), ControlRequest()) == .connectionClosed)
        #expect(machine.consumeSubmitted(Self.consumer(2)) == .fail(.connectionClosed))
        #expect(AMQPError.connectionClosed == AMQPError(.shutdown, "the connection is closed"))
        #expect(machine.cancelConsumer(id: 1) == nil)
        #expect(!machine.acceptsSettlement(channel: 3, generation: 1))
        #expect(machine.consumer(onChannel: 3) == nil)
        let due = machine.tick(now: Self.at(.seconds(3600)))
        #expect(!due)
        #expect(machine.flush().isEmpty && machine.nextControl() == nil)
    }
}
