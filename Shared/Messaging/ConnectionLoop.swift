internal import CRabbitMQ
import Foundation
import Logging

/// The connection thread: owns the rabbitmq-c connection, and performs with it what the state machine decides.
///
/// Channel 1 declares topology, channel 2 publishes in confirm mode, channels from 3 on carry one consumer each.
/// Any channel-level or connection-level failure ends the connection (and so the validity of every delivery
/// tag handed out on it); the next connection starts a new generation and replays state.
final class ConnectionLoop {
    typealias StateMachine = ConnectionStateMachine<CheckedContinuation<Void, any Error>>

    static let controlChannel: UInt16 = 1
    static let publishChannel: UInt16 = 2

    let configuration: AMQPConfiguration
    let logger: Logger
    private let connection: WeakReference<AMQPConnection>
    let pool = AMQPPool()
    /// The open rabbitmq-c connection; nil between connections.
    var handle: amqp_connection_state_t?
    var machine: StateMachine
    /// Connection attempts so far: the next goes to `configuration.node(attempt:)`.
    private var connectAttempts = 0

    init(configuration: AMQPConfiguration, logger: Logger, connection: WeakReference<AMQPConnection>) {
        self.configuration = configuration
        self.logger = logger
        self.connection = connection
        self.machine = StateMachine(configuration: configuration, now: .now)
    }

    // MARK: The loop

    func run() {
        while true {
            guard let owner = connection.value else {
                // Nobody holds the connection any more, so nobody can submit to it either.
                if let shutdown = machine.shutdownRequested() { close(shutdown) }
                return
            }
            owner.drainWakeup()
            for job in owner.takeJobs() { perform(job, owner) }
            if machine.state == .closed { return }
            if machine.tick(now: .now) { connect(owner) }
            if handle != nil {
                do {
                    try runPendingControl()
                    try flushUnsent()
                    try pumpFrames(owner)
                } catch {
                    connectionLost(error, owner)
                }
            }
            for completion in machine.expire(now: .now) { resume(completion) }
            waitForWork(wakeup: owner.wakeupDescriptor)
        }
    }

    private func waitForWork(wakeup: Int32) {
        var timeout = machine.pollTimeout(now: .now)
        if let handle, amqp_frames_enqueued(handle) != 0 || amqp_data_in_buffer(handle) != 0 { timeout = .zero }
        var descriptors = [pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)]
        if let handle { descriptors.append(pollfd(fd: amqp_get_sockfd(handle), events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
    }

    private func perform(_ job: AMQPConnection.Job, _ owner: AMQPConnection) {
        switch job {
        case .publish(let request):
            if let error = machine.publishSubmitted(request.messages, deadline: request.deadline, waiter: request.continuation) {
                request.continuation.resume(throwing: error)
            }
        case .settle(let settlement, let tag, let channel, let generation):
            guard let handle, machine.acceptsSettlement(channel: channel, generation: generation) else { return }
            let status: Int32 = switch settlement {
            case .ack(let multiple): amqp_basic_ack(handle, channel, tag, multiple ? 1 : 0)
            case .nack(let requeue, let multiple): amqp_basic_nack(handle, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0)
            case .reject(let requeue): amqp_basic_reject(handle, channel, tag, requeue ? 1 : 0)
            }
            if status != AMQP_STATUS_OK.rawValue { connectionLost(AMQPError(.connectionLost, Self.describe(status)), owner) }
        case .declare(let topology, let request):
            if let error = machine.controlSubmitted(.declare(topology), request) { request.complete(throwing: error) }
        case .deleteQueue(let name, let request):
            if let error = machine.controlSubmitted(.deleteQueue(name), request) { request.complete(throwing: error) }
        case .consume(let registration):
            switch machine.consumeSubmitted(registration) {
            case .wait:
                break
            case .start(let channel):
                do { try startConsumer(registration, on: channel) } catch { consumerFailed(registration.id, error) }
            case .fail(let error):
                registration.buffer.finish(throwing: error)
            }
        case .cancelConsumer(let id):
            guard let (registration, channel) = machine.cancelConsumer(id: id) else { return }
            registration.buffer.finish()
            // Closing the channel makes the broker requeue whatever the consumer left unsettled.
            if let handle, let channel { _ = amqp_channel_close(handle, channel, AMQP_REPLY_SUCCESS) }
        case .shutdown(let continuation):
            if let shutdown = machine.shutdownRequested() {
                close(shutdown)
                owner.setConnected(false)
                // From now on the connection refuses work at once: nothing submitted later waits for this thread.
                owner.close()
            }
            continuation.resume()
        }
    }

    // MARK: Connecting

    private func connect(_ owner: AMQPConnection) {
        let newHandle = amqp_new_connection()!
        do {
            try open(newHandle)
        } catch {
            amqp_destroy_connection(newHandle)
            logReconnect(machine.connectFailed(now: .now), after: error)
            return
        }
        handle = newHandle
        let serverVersion = amqp_get_server_properties(newHandle)?.pointee.swiftTable["version"]?.stringValue
        let replay = machine.connectSucceeded(serverVersion: serverVersion)
        do {
            for topology in replay.topologies { try declare(topology) }
            for (registration, channel) in replay.consumers {
                do { try startConsumer(registration, on: channel) } catch let error as AMQPError where error.code == .channelClosed {
                    consumerFailed(registration.id, error)
                }
            }
        } catch {
            connectionLost(error, owner)
            return
        }
        let failedAttempts = machine.replayFinished()
        owner.setConnected(true)
        if failedAttempts > 0 { logger.info("AMQP connection re-established", metadata: ["attempts": "\(failedAttempts)"]) }
    }

    private func open(_ handle: amqp_connection_state_t) throws {
        // A cluster's nodes in turn, one per attempt: a node that is down is passed over on the next.
        let node = configuration.node(attempt: connectAttempts)
        connectAttempts += 1
        let socket = configuration.tls ? amqp_ssl_socket_new(handle) : amqp_tcp_socket_new(handle)
        guard let socket else { throw AMQPError(.connectionFailed, "could not create a socket") }
        if configuration.tls {
            amqp_ssl_socket_set_verify_peer(socket, 1)
            amqp_ssl_socket_set_verify_hostname(socket, 1)
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, node.host, Int32(node.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot reach \(node): \(Self.describe(status))")
        }
        let heartbeat = Int32(configuration.heartbeat.components.seconds)
        let login = commlog_amqp_login_plain(handle, configuration.virtualHost, 0, 131_072, heartbeat, configuration.user, configuration.password)
        try check(login, channel: 0, doing: "log in as \(configuration.user) to vhost \(configuration.virtualHost)")
        _ = amqp_channel_open(handle, Self.controlChannel)
        try check(amqp_get_rpc_reply(handle), channel: Self.controlChannel, doing: "open the control channel")
        _ = amqp_channel_open(handle, Self.publishChannel)
        try check(amqp_get_rpc_reply(handle), channel: Self.publishChannel, doing: "open the publish channel")
        _ = amqp_confirm_select(handle, Self.publishChannel)
        try check(amqp_get_rpc_reply(handle), channel: Self.publishChannel, doing: "enable publisher confirms")
    }

    /// Drops the connection; the state machine keeps what it had not confirmed for the next one.
    private func connectionLost(_ error: any Error, _ owner: AMQPConnection) {
        if let handle { amqp_destroy_connection(handle) }
        handle = nil
        owner.setConnected(false)
        if let refusal = error as? AMQPError, refusal.code == .publishRefused {
            for completion in machine.refuseInFlight(refusal) { resume(completion) }
        }
        if let reconnect = machine.connectionLost(now: .now) { logReconnect(reconnect, after: error) }
    }

    private func logReconnect(_ reconnect: StateMachine.Reconnect, after error: any Error) {
        logger.log(level: reconnect.isWorthAWarning ? .warning : .debug, "AMQP connection unavailable, retrying", metadata: [
            "error": "\(error)", "retry_in": "\(reconnect.delay)", "attempt": "\(reconnect.failedAttempts)",
        ])
    }

    private func close(_ shutdown: StateMachine.Shutdown) {
        if let handle {
            if shutdown.closeConnection { _ = amqp_connection_close(handle, AMQP_REPLY_SUCCESS) }
            amqp_destroy_connection(handle)
        }
        handle = nil
        for waiter in shutdown.publishes { waiter.resume(throwing: shutdown.error) }
        for request in shutdown.controls { request.complete(throwing: shutdown.error) }
        for registration in shutdown.consumers { registration.buffer.finish() }
    }

    func resume(_ completion: StateMachine.Completion) {
        if let error = completion.error { completion.waiter.resume(throwing: error) } else { completion.waiter.resume() }
    }

    private func consumerFailed(_ id: Int, _ error: any Error) {
        if let registration = machine.consumerFailed(id: id) { end(registration, throwing: error) }
    }

    /// Ends a consumer the broker refused or cancelled: its deliveries end with `error`.
    func end(_ registration: ConsumerRegistration, throwing error: any Error) {
        logger.error("AMQP consumer failed", metadata: ["queue": "\(registration.queue)", "error": "\(error)"])
        registration.buffer.finish(throwing: error)
    }
}
