/// The decisions of one AMQP connection, without I/O: when to connect and after what delay, what a new connection
/// declares and starts again, what becomes of publishes the broker has not confirmed, and what a job gets once the
/// connection is closed.
///
/// The connection loop reports events (a connect succeeded, the connection was lost, a job or a confirm arrived, time
/// passed) and performs the actions it gets back with rabbitmq-c. `Waiter` is what waits for a publish: a continuation
/// in the loop, any value in tests. A waiter taken by the machine is handed back once, in a completion or a shutdown.
struct ConnectionStateMachine<Waiter> {
    enum State: Equatable {
        /// No connection; the next attempt is due at `nextAttempt`, after `failedAttempts` failed in a row.
        case disconnected(nextAttempt: ContinuousClock.Instant, failedAttempts: Int)
        /// The loop is opening a connection.
        case connecting(failedAttempts: Int)
        /// Open; topology and consumers are being set up again, and a failure still counts as a failed attempt.
        case replaying(generation: UInt64, brokerMajorVersion: Int?, failedAttempts: Int)
        /// Open and set up: deliveries of `generation` can be settled.
        case connected(generation: UInt64, brokerMajorVersion: Int?)
        /// Shut down for good: every job fails at once.
        case closed
    }

    /// When the loop tries again after a failed connect or a lost connection.
    struct Reconnect: Equatable {
        let delay: Duration
        /// Attempts that failed in a row, this one included.
        let failedAttempts: Int

        /// Whether to log it as a warning: the first few attempts, then every tenth (about every 100 s at the longest delay).
        var isWorthAWarning: Bool { failedAttempts <= 3 || failedAttempts % 10 == 0 }
    }

    /// What a new connection sets up again, in this order, before it counts as connected.
    struct Replay {
        let generation: UInt64
        let topologies: [Topology]
        /// Every consumer, oldest first, with the channel it is started on.
        let consumers: [(registration: ConsumerRegistration, channel: UInt16)]
    }

    /// What the loop does to shut down: everything still waiting fails with `error`, and consumers end.
    struct Shutdown {
        /// Whether a connection is open, to be closed cleanly with the broker before it is dropped.
        let closeConnection: Bool
        let error: AMQPError
        let publishes: [Waiter]
        let controls: [ControlRequest]
        let consumers: [ConsumerRegistration]
    }

    /// A publish that has ended: every message confirmed (`error` nil), or failed.
    struct Completion {
        let waiter: Waiter
        let error: AMQPError?
    }

    private(set) var state: State
    private let minimumReconnectDelay: Duration
    private let maximumReconnectDelay: Duration
    /// The broker's major version when configured; nil to take it from the broker.
    private let configuredBrokerMajorVersion: Int?
    /// Connections opened so far: the next one's generation is one more.
    private var generations: UInt64 = 0

    // Not private: the machine's extension in ConnectionStateMachine+Jobs.swift keeps these; nothing else touches them.

    /// What every new connection declares again: what was declared, less the queues deleted since.
    var topologies: [Topology] = []
    /// Declares and deletes waiting for the control channel, in the order they were asked for.
    var pendingControl: [(operation: ControlOperation, request: ControlRequest)] = []
    var publishes = Publishes()
    /// Consumers to (re)start on every connection, by id.
    var consumers: [Int: ConsumerRegistration] = [:]
    /// The open connection's consumer channels: deliveries and settlements are matched by channel.
    var consumerOfChannel: [UInt16: Int] = [:]
    var nextChannel = firstConsumerChannel

    /// Channel 1 declares topology and channel 2 publishes (the loop opens both with the connection).
    private static var firstConsumerChannel: UInt16 { 3 }

    init(configuration: AMQPConfiguration, now: ContinuousClock.Instant) {
        state = .disconnected(nextAttempt: now, failedAttempts: 0)
        minimumReconnectDelay = configuration.minimumReconnectDelay
        maximumReconnectDelay = configuration.maximumReconnectDelay
        configuredBrokerMajorVersion = configuration.brokerMajorVersion
    }

    // MARK: Connecting

    /// Time passed: true when the loop should connect now (disconnected, and the next attempt is due).
    mutating func tick(now: ContinuousClock.Instant) -> Bool {
        guard case .disconnected(let nextAttempt, let failedAttempts) = state, now >= nextAttempt else { return false }
        state = .connecting(failedAttempts: failedAttempts)
        return true
    }

    /// Opening a connection failed (unreachable, login refused): try again after the backoff delay.
    mutating func connectFailed(now: ContinuousClock.Instant) -> Reconnect {
        guard case .connecting(let failedAttempts) = state else { preconditionFailure("a connect failed while \(state)") }
        return scheduleReconnect(afterFailedAttempts: failedAttempts, now: now)
    }

    /// A connection opened: a new generation, whose channels start afresh, declares the topology and starts the consumers.
    mutating func connectSucceeded(serverVersion: String?) -> Replay {
        guard case .connecting(let failedAttempts) = state else { preconditionFailure("a connect succeeded while \(state)") }
        generations += 1
        let brokerMajorVersion = configuredBrokerMajorVersion ?? Topology.majorVersion(serverVersion)
        state = .replaying(generation: generations, brokerMajorVersion: brokerMajorVersion, failedAttempts: failedAttempts)
        consumerOfChannel = [:]
        nextChannel = Self.firstConsumerChannel
        let replayed = consumers.values.sorted { $0.id < $1.id }.map { (registration: $0, channel: openChannel(for: $0.id)) }
        return Replay(generation: generations, topologies: topologies, consumers: replayed)
    }

    /// Topology and consumers are set up: the connection is up, and the next failure starts the backoff over.
    /// Returns the attempts that had failed before this one.
    mutating func replayFinished() -> Int {
        guard case .replaying(let generation, let brokerMajorVersion, let failedAttempts) = state else {
            preconditionFailure("a replay finished while \(state)")
        }
        state = .connected(generation: generation, brokerMajorVersion: brokerMajorVersion)
        return failedAttempts
    }

    /// The open connection failed. Its delivery tags and publish tags die with it: what the broker had not confirmed
    /// goes back to the front of the queue, to be published again on the next connection. Nil when none was open.
    /// The broker refused something published on this connection (`AMQPError.Code.publishRefused`): the publishes
    /// it names fail with `error`, and are not sent again.
    mutating func refuseInFlight(_ error: AMQPError) -> [Completion] {
        publishes.refuseInFlight(error)
    }

    mutating func connectionLost(now: ContinuousClock.Instant) -> Reconnect? {
        let failedAttempts: Int
        switch state {
        case .replaying(_, _, let failed): failedAttempts = failed
        case .connected: failedAttempts = 0
        case .disconnected, .connecting, .closed: return nil
        }
        publishes.requeueUnconfirmed()
        consumerOfChannel = [:]
        nextChannel = Self.firstConsumerChannel
        return scheduleReconnect(afterFailedAttempts: failedAttempts, now: now)
    }

    private mutating func scheduleReconnect(afterFailedAttempts previous: Int, now: ContinuousClock.Instant) -> Reconnect {
        let reconnect = Reconnect(delay: reconnectDelay(afterFailedAttempts: previous + 1), failedAttempts: previous + 1)
        state = .disconnected(nextAttempt: now.advanced(by: reconnect.delay), failedAttempts: reconnect.failedAttempts)
        return reconnect
    }

    /// The minimum delay after the first failure, doubled after each further one, up to the maximum.
    private func reconnectDelay(afterFailedAttempts attempts: Int) -> Duration {
        var delay = minimumReconnectDelay
        for _ in 1..<max(attempts, 1) {
            let doubled = min(delay * 2, maximumReconnectDelay)
            if doubled == delay { break }
            delay = doubled
        }
        return delay
    }

    /// The broker's major version on the open connection (it decides the dead-letter queue's declare arguments).
    var brokerMajorVersion: Int? {
        switch state {
        case .replaying(_, let version, _), .connected(_, let version): version
        case .disconnected, .connecting, .closed: nil
        }
    }

    /// How long the loop may wait for work: at most a second, less when a reconnect or a publish deadline is due.
    func pollTimeout(now: ContinuousClock.Instant) -> Duration {
        var timeout = Duration.seconds(1)
        if case .disconnected(let nextAttempt, _) = state { timeout = min(timeout, max(.zero, nextAttempt - now)) }
        if let deadline = publishes.earliestDeadline { timeout = min(timeout, max(.zero, deadline - now)) }
        return timeout
    }

    // MARK: Shutting down

    /// The program shuts the connection down (or lets go of it): everything still waiting fails with `.shutdown`,
    /// consumers end, and from now on every job fails at once. Nil when already closed: a second shutdown has nothing to do.
    mutating func shutdownRequested() -> Shutdown? {
        let isOpen: Bool
        switch state {
        case .closed: return nil
        case .replaying, .connected: isOpen = true
        case .disconnected, .connecting: isOpen = false
        }
        state = .closed
        let shutdown = Shutdown(
            closeConnection: isOpen,
            error: AMQPError(.shutdown, "the connection is shutting down"),
            publishes: publishes.removeAll(),
            controls: pendingControl.map(\.request),
            consumers: Array(consumers.values)
        )
        pendingControl = []
        consumers = [:]
        consumerOfChannel = [:]
        topologies = []
        return shutdown
    }
}

extension AMQPError {
    /// What a job gets once its connection is closed.
    static var connectionClosed: AMQPError { AMQPError(.shutdown, "the connection is closed") }
}
