internal import CRabbitMQ
import Foundation
import Logging

/// The connection thread: owns the rabbitmq-c connection and everything that must be touched only from it.
///
/// Channel 1 declares topology, channel 2 publishes in confirm mode, channels from 3 on carry one consumer each.
/// Any channel-level or connection-level failure ends the connection (and so the validity of every delivery
/// tag handed out on it); the next connection starts a new generation and replays state.
final class ConnectionLoop: @unchecked Sendable {
    private static let controlChannel: UInt16 = 1
    private static let publishChannel: UInt16 = 2
    private static let firstConsumerChannel: UInt16 = 3

    private let configuration: AMQPConfiguration
    private let logger: Logger
    private let connection: WeakReference<AMQPConnection>
    private let pool = AMQPPool()

    private var state: amqp_connection_state_t?
    /// The major version the broker gave when this connection opened (its `version` server property).
    private var brokerMajorVersion: Int?
    private var generation: UInt64 = 0
    private var reconnectDelay: Duration
    private var nextAttempt = ContinuousClock.now
    private var failedAttempts = 0
    private var shutdownRequest: CheckedContinuation<Void, Never>?

    private var topologies: [Topology] = []
    /// Declares and deletes waiting for the control channel, in the order they were asked for.
    private var pendingControl: [(operation: ControlOperation, request: ControlRequest)] = []

    private enum ControlOperation {
        case declare(Topology)
        case deleteQueue(String)
    }

    private var activeRequests: [ObjectIdentifier: PublishRequest] = [:]
    private var unsent: [(request: PublishRequest, index: Int)] = []
    private var confirms = ConfirmWindow<(request: PublishRequest, index: Int)>()
    private var returned: [UInt64: String] = [:]

    private var consumers: [Int: ConsumerRegistration] = [:]
    private var consumerOfChannel: [UInt16: Int] = [:]
    private var nextChannel = ConnectionLoop.firstConsumerChannel

    init(configuration: AMQPConfiguration, logger: Logger, connection: WeakReference<AMQPConnection>) {
        self.configuration = configuration
        self.logger = logger
        self.connection = connection
        self.reconnectDelay = configuration.minimumReconnectDelay
    }

    // MARK: The loop

    func run() {
        while true {
            guard let owner = connection.value else {
                // Nobody holds the connection any more, so nobody can submit to it either.
                disconnect(reason: .shutdown, graceful: true)
                return
            }
            owner.drainWakeup()
            for job in owner.takeJobs() { handle(job) }
            if let shutdownRequest {
                disconnect(reason: .shutdown, graceful: true)
                owner.setConnected(false)
                // From now on the connection refuses work at once: nothing submitted later waits for this thread.
                owner.close()
                shutdownRequest.resume()
                return
            }
            if state == nil, ContinuousClock.now >= nextAttempt { connect(owner) }
            if state != nil {
                do {
                    try runPendingControl()
                    try flushUnsent()
                    try pumpFrames(owner)
                } catch {
                    connectionLost(error, owner)
                }
            }
            expirePublishes()
            waitForWork(wakeup: owner.wakeupDescriptor)
        }
    }

    private func waitForWork(wakeup: Int32) {
        var timeout = Duration.seconds(1)
        let now = ContinuousClock.now
        if state == nil { timeout = min(timeout, max(.zero, nextAttempt - now)) }
        for request in activeRequests.values { timeout = min(timeout, max(.zero, request.deadline - now)) }
        if let state, amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 { timeout = .zero }
        var descriptors = [pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)]
        if let state { descriptors.append(pollfd(fd: amqp_get_sockfd(state), events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
    }

    private func handle(_ job: AMQPConnection.Job) {
        switch job {
        case .publish(let request):
            activeRequests[ObjectIdentifier(request)] = request
            unsent += request.messages.indices.map { (request, $0) }
        case .settle(let settlement, let tag, let channel, let generation):
            guard let state, generation == self.generation, consumerOfChannel[channel] != nil else { return }
            let status: Int32 = switch settlement {
            case .ack(let multiple): amqp_basic_ack(state, channel, tag, multiple ? 1 : 0)
            case .nack(let requeue, let multiple): amqp_basic_nack(state, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0)
            case .reject(let requeue): amqp_basic_reject(state, channel, tag, requeue ? 1 : 0)
            }
            if status != AMQP_STATUS_OK.rawValue, let owner = connection.value {
                connectionLost(AMQPError(.connectionLost, Self.describe(status)), owner)
            }
        case .declare(let topology, let continuation):
            pendingControl.append((.declare(topology), continuation))
        case .deleteQueue(let name, let continuation):
            pendingControl.append((.deleteQueue(name), continuation))
        case .consume(let registration):
            consumers[registration.id] = registration
            if state != nil {
                do { try startConsumer(registration) } catch { consumerFailed(registration, error) }
            }
        case .cancelConsumer(let id):
            guard let registration = consumers.removeValue(forKey: id) else { return }
            registration.buffer.finish()
            if let state, let channel = consumerOfChannel.first(where: { $0.value == id })?.key {
                consumerOfChannel[channel] = nil
                // Closing the channel makes the broker requeue whatever the consumer left unsettled.
                _ = amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS)
            }
        case .shutdown(let continuation):
            shutdownRequest = continuation
        }
    }

    // MARK: Connecting

    private func connect(_ owner: AMQPConnection) {
        let newState = amqp_new_connection()!
        do {
            try open(newState)
            state = newState
            brokerMajorVersion = configuration.brokerMajorVersion
                ?? Topology.majorVersion(amqp_get_server_properties(newState)?.pointee.swiftTable["version"]?.stringValue)
            generation += 1
            confirms = ConfirmWindow<(request: PublishRequest, index: Int)>()
            returned = [:]
            consumerOfChannel = [:]
            nextChannel = Self.firstConsumerChannel
            for topology in topologies { try declare(topology) }
            for registration in consumers.values.sorted(by: { $0.id < $1.id }) {
                do { try startConsumer(registration) } catch let error as AMQPError where error.code == .channelClosed {
                    consumerFailed(registration, error)
                }
            }
            owner.setConnected(true)
            if failedAttempts > 0 { logger.info("AMQP connection re-established", metadata: ["attempts": "\(failedAttempts)"]) }
            failedAttempts = 0
            reconnectDelay = configuration.minimumReconnectDelay
        } catch {
            if state == newState {
                connectionLost(error, owner)
            } else {
                amqp_destroy_connection(newState)
                scheduleReconnect(after: error)
            }
        }
    }

    private func open(_ state: amqp_connection_state_t) throws {
        let socket = configuration.tls ? amqp_ssl_socket_new(state) : amqp_tcp_socket_new(state)
        guard let socket else { throw AMQPError(.connectionFailed, "could not create a socket") }
        if configuration.tls {
            amqp_ssl_socket_set_verify_peer(socket, 1)
            amqp_ssl_socket_set_verify_hostname(socket, 1)
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot reach \(configuration.host):\(configuration.port): \(Self.describe(status))")
        }
        let heartbeat = Int32(configuration.heartbeat.components.seconds)
        let login = commlog_amqp_login_plain(state, configuration.virtualHost, 0, 131_072, heartbeat, configuration.user, configuration.password)
        try check(login, channel: 0, doing: "log in as \(configuration.user) to vhost \(configuration.virtualHost)")
        _ = amqp_channel_open(state, Self.controlChannel)
        try check(amqp_get_rpc_reply(state), channel: Self.controlChannel, doing: "open the control channel")
        _ = amqp_channel_open(state, Self.publishChannel)
        try check(amqp_get_rpc_reply(state), channel: Self.publishChannel, doing: "open the publish channel")
        _ = amqp_confirm_select(state, Self.publishChannel)
        try check(amqp_get_rpc_reply(state), channel: Self.publishChannel, doing: "enable publisher confirms")
    }

    private func scheduleReconnect(after error: any Error) {
        failedAttempts += 1
        nextAttempt = ContinuousClock.now.advanced(by: reconnectDelay)
        // Said at once and for the first few attempts, then every tenth (about every 100 s at the longest delay).
        let level: Logger.Level = failedAttempts <= 3 || failedAttempts % 10 == 0 ? .warning : .debug
        logger.log(level: level, "AMQP connection unavailable, retrying", metadata: [
            "error": "\(error)", "retry_in": "\(reconnectDelay)", "attempt": "\(failedAttempts)",
        ])
        reconnectDelay = min(reconnectDelay * 2, configuration.maximumReconnectDelay)
    }

    /// Drops the connection; unconfirmed messages go back to the front of the queue to publish.
    private func connectionLost(_ error: any Error, _ owner: AMQPConnection) {
        if let state { amqp_destroy_connection(state) }
        state = nil
        owner.setConnected(false)
        let inFlight = confirms.removeAll().map(\.payload).filter { !$0.request.isResolved }
        unsent = inFlight + unsent
        returned = [:]
        consumerOfChannel = [:]
        scheduleReconnect(after: error)
    }

    private func disconnect(reason: AMQPError.Code, graceful: Bool) {
        if let state {
            if graceful { _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS) }
            amqp_destroy_connection(state)
        }
        state = nil
        let error = AMQPError(reason, "the connection is shutting down")
        for request in activeRequests.values { request.complete(throwing: error) }
        activeRequests = [:]
        unsent = []
        for pending in pendingControl { pending.request.complete(throwing: error) }
        pendingControl = []
        for registration in consumers.values { registration.buffer.finish() }
        consumers = [:]
    }

    // MARK: Topology

    private func runPendingControl() throws {
        while !pendingControl.isEmpty {
            let pending = pendingControl.removeFirst()
            guard !pending.request.isAbandoned else { continue }
            do {
                switch pending.operation {
                case .declare(let topology):
                    try declare(topology)
                    topologies.append(topology)
                case .deleteQueue(let name):
                    try deleteQueue(name)
                    for index in topologies.indices { topologies[index].queues.removeAll { $0.name == name } }
                }
                pending.request.complete()
            } catch let error as AMQPError where error.code == .channelClosed {
                pending.request.complete(throwing: error)
            } catch {
                pendingControl.insert(pending, at: 0)
                throw error
            }
        }
    }

    private func deleteQueue(_ name: String) throws {
        guard let state else { throw AMQPError(.connectionLost, "not connected") }
        pool.recycle()
        _ = amqp_queue_delete(state, Self.controlChannel, pool.bytes(name), 0, 0)
        try check(amqp_get_rpc_reply(state), channel: Self.controlChannel, doing: "delete queue \(name)")
    }

    private func declare(_ topology: Topology) throws {
        guard let state else { throw AMQPError(.connectionLost, "not connected") }
        let channel = Self.controlChannel
        for exchange in topology.exchanges {
            pool.recycle()
            _ = amqp_exchange_declare(state, channel, pool.bytes(exchange.name), pool.bytes(exchange.type), 0, 1, 0, 0, commlog_empty_table())
            try check(amqp_get_rpc_reply(state), channel: channel, doing: "declare exchange \(exchange.name)")
        }
        for queue in topology.queues {
            pool.recycle()
            // passive 0; durable, exclusive, auto-delete: a quorum queue is durable, a transient one the opposite.
            let durable: amqp_boolean_t = queue.isTransient ? 0 : 1
            let temporary: amqp_boolean_t = queue.isTransient ? 1 : 0
            let arguments = queue.arguments(brokerMajorVersion: brokerMajorVersion)
            _ = amqp_queue_declare(state, channel, pool.bytes(queue.name), 0, durable, temporary, temporary, pool.table(arguments))
            do {
                try check(amqp_get_rpc_reply(state), channel: channel, doing: "declare queue \(queue.name)")
            } catch let error as AMQPError where error.code == .channelClosed && arguments != queue.arguments {
                // Declared before, by an older Commlog or under RabbitMQ 3: its arguments are fixed. It still works,
                // with the broker's default delivery limit, which a policy lifts.
                logger.error("the dead-letter queue has the broker's default delivery limit: lift it with a policy", metadata: [
                    "queue": "\(queue.name)", "error": "\(error)",
                    "policy": "rabbitmqctl set_policy --apply-to quorum_queues commlog-dead-letters '^commlog\\.dead-letters$' '{\"delivery-limit\":-1}'",
                ])
                pool.recycle()
                _ = amqp_queue_declare(state, channel, pool.bytes(queue.name), 0, durable, temporary, temporary, pool.table(queue.arguments))
                try check(amqp_get_rpc_reply(state), channel: channel, doing: "declare queue \(queue.name)")
            }
            for key in queue.bindings {
                pool.recycle()
                _ = amqp_queue_bind(state, channel, pool.bytes(queue.name), pool.bytes(queue.exchange), pool.bytes(key), commlog_empty_table())
                try check(amqp_get_rpc_reply(state), channel: channel, doing: "bind \(queue.name) to \(queue.exchange) with \(key)")
            }
        }
    }

    // MARK: Consuming

    private func startConsumer(_ registration: ConsumerRegistration) throws {
        guard let state else { return }
        let channel = nextChannel
        nextChannel += 1
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), channel: channel, doing: "open a consumer channel")
        _ = amqp_basic_qos(state, channel, 0, registration.prefetch, 0)
        try check(amqp_get_rpc_reply(state), channel: channel, doing: "set prefetch \(registration.prefetch)")
        pool.recycle()
        _ = amqp_basic_consume(state, channel, pool.bytes(registration.queue), pool.bytes("commlog-\(registration.id)"), 0, 0, 0, commlog_empty_table())
        try check(amqp_get_rpc_reply(state), channel: channel, doing: "consume \(registration.queue)")
        consumerOfChannel[channel] = registration.id
    }

    private func consumerFailed(_ registration: ConsumerRegistration, _ error: any Error) {
        logger.error("AMQP consumer failed", metadata: ["queue": "\(registration.queue)", "error": "\(error)"])
        consumers[registration.id] = nil
        registration.buffer.finish(throwing: error)
    }

    private func deliver(_ method: amqp_basic_deliver_t, channel: UInt16, owner: AMQPConnection) throws {
        guard let state else { return }
        let exchange = method.exchange.string
        let routingKey = method.routing_key.string
        var message = amqp_message_t()
        try check(amqp_read_message(state, channel, &message, 0), channel: channel, doing: "read a delivery")
        defer { amqp_destroy_message(&message) }
        guard let id = consumerOfChannel[channel], let registration = consumers[id] else {
            _ = amqp_basic_reject(state, channel, method.delivery_tag, 1)
            return
        }
        registration.buffer.append(AMQPDelivery(
            queue: registration.queue,
            exchange: exchange,
            routingKey: routingKey,
            body: message.body.array,
            properties: MessageProperties(message.properties),
            redelivered: method.redelivered != 0,
            deliveryTag: method.delivery_tag,
            channel: channel,
            generation: generation,
            settler: owner
        ))
    }

    // MARK: Publishing

    private func flushUnsent() throws {
        guard let state, !unsent.isEmpty else { return }
        var sent = 0
        defer { unsent.removeFirst(sent) }
        for (request, index) in unsent {
            if request.isResolved {
                sent += 1
                continue
            }
            let tag = confirms.nextTag
            let status = publish(request.messages[index], tag: tag, on: state)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(.connectionLost, "publish failed: \(Self.describe(status))")
            }
            confirms.append(tag: tag, (request, index))
            sent += 1
        }
    }

    private func publish(_ message: OutgoingMessage, tag: UInt64, on state: amqp_connection_state_t) -> Int32 {
        pool.recycle()
        var properties = amqp_basic_properties_t()
        properties._flags = COMMLOG_BASIC_DELIVERY_MODE_FLAG | COMMLOG_BASIC_HEADERS_FLAG
        properties.delivery_mode = 2
        if let contentType = message.contentType {
            properties._flags |= COMMLOG_BASIC_CONTENT_TYPE_FLAG
            properties.content_type = pool.bytes(contentType)
        }
        if let messageID = message.messageID {
            properties._flags |= COMMLOG_BASIC_MESSAGE_ID_FLAG
            properties.message_id = pool.bytes(messageID)
        }
        if let timestamp = message.timestamp {
            properties._flags |= COMMLOG_BASIC_TIMESTAMP_FLAG
            properties.timestamp = timestamp
        }
        // Who publishes, validated by the broker (it must be this connection's user): consumers trust it.
        properties._flags |= COMMLOG_BASIC_USER_ID_FLAG
        properties.user_id = pool.bytes(configuration.user)
        var headers = message.headers
        headers[OutgoingMessage.publishTagHeader] = .int(Int64(tag))
        properties.headers = pool.table(headers)
        let exchange = pool.bytes(message.exchange)
        let routingKey = pool.bytes(message.routingKey)
        return message.body.withUnsafeBytes { body in
            let bytes = amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
            return amqp_basic_publish(state, Self.publishChannel, exchange, routingKey, message.mandatory ? 1 : 0, 0, &properties, bytes)
        }
    }

    private func confirm(tag: UInt64, multiple: Bool, acknowledged: Bool) {
        for entry in confirms.remove(upTo: tag, multiple: multiple) {
            let (request, index) = entry.payload
            request.unconfirmed.remove(index)
            if let reason = returned.removeValue(forKey: entry.tag) {
                request.failure = AMQPError(.unroutable, "\(request.messages[index].routingKey): \(reason)")
            } else if !acknowledged {
                request.failure = AMQPError(.publishRejected, "the broker refused \(request.messages[index].routingKey)")
            }
            if request.unconfirmed.isEmpty {
                request.complete()
                activeRequests[ObjectIdentifier(request)] = nil
            }
        }
    }

    private func expirePublishes() {
        let now = ContinuousClock.now
        for (key, request) in activeRequests where request.deadline <= now {
            request.complete(throwing: AMQPError(.timeout, "the broker did not confirm \(request.unconfirmed.count) of \(request.messages.count) messages in time"))
            activeRequests[key] = nil
        }
        if unsent.contains(where: { $0.request.isResolved }) { unsent.removeAll { $0.request.isResolved } }
    }

    // MARK: Frames

    private func pumpFrames(_ owner: AMQPConnection) throws {
        guard let state else { return }
        // Bounded, so that acks and publishes queued meanwhile are not starved by a stream of deliveries.
        for _ in 0..<2048 {
            var frame = amqp_frame_t()
            var immediately = timeval(tv_sec: 0, tv_usec: 0)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(.connectionLost, Self.describe(status))
            }
            try handle(frame, owner: owner)
            if self.state == nil { return }
        }
        amqp_maybe_release_buffers(state)
    }

    private func handle(_ frame: amqp_frame_t, owner: AMQPConnection) throws {
        guard frame.frame_type == AMQP_FRAME_METHOD, let state else { return }
        let method = frame.payload.method
        let channel = frame.channel
        switch method.id {
        case COMMLOG_BASIC_ACK:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirm(tag: ack.delivery_tag, multiple: ack.multiple != 0, acknowledged: true)
        case COMMLOG_BASIC_NACK:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirm(tag: nack.delivery_tag, multiple: nack.multiple != 0, acknowledged: false)
        case COMMLOG_BASIC_RETURN:
            let returnMethod = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let reason = "\(returnMethod.reply_code) \(returnMethod.reply_text.string)"
            var message = amqp_message_t()
            try check(amqp_read_message(state, channel, &message, 0), channel: channel, doing: "read a returned message")
            defer { amqp_destroy_message(&message) }
            if let tag = MessageProperties(message.properties).headers[OutgoingMessage.publishTagHeader]?.intValue {
                returned[UInt64(tag)] = reason
            }
        case COMMLOG_BASIC_DELIVER:
            let deliverMethod = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            try deliver(deliverMethod, channel: channel, owner: owner)
        case COMMLOG_BASIC_CANCEL:
            if let id = consumerOfChannel.removeValue(forKey: channel), let registration = consumers[id] {
                consumerFailed(registration, AMQPError(.consumerCancelled, "the broker cancelled the consumer of \(registration.queue)"))
            }
        case COMMLOG_CHANNEL_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var closeOK = amqp_channel_close_ok_t()
            _ = amqp_send_method(state, channel, COMMLOG_CHANNEL_CLOSE_OK, &closeOK)
            throw AMQPError(.connectionLost, "the broker closed channel \(channel): \(close.reply_code) \(close.reply_text.string)")
        case COMMLOG_CONNECTION_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var closeOK = amqp_connection_close_ok_t()
            _ = amqp_send_method(state, 0, COMMLOG_CONNECTION_CLOSE_OK, &closeOK)
            throw AMQPError(.connectionLost, "the broker closed the connection: \(close.reply_code) \(close.reply_text.string)")
        case COMMLOG_CONNECTION_BLOCKED:
            logger.warning("the broker blocked publishing (resource alarm)")
        case COMMLOG_CONNECTION_UNBLOCKED:
            logger.info("the broker unblocked publishing")
        default:
            break
        }
    }

    // MARK: Errors

    /// Turns an RPC reply into success or an error; answers a channel close so the channel can be reopened.
    private func check(_ reply: amqp_rpc_reply_t, channel: UInt16, doing what: String) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == COMMLOG_CHANNEL_CLOSE:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let text = "\(close.reply_code) \(close.reply_text.string)"
            if let state {
                var closeOK = amqp_channel_close_ok_t()
                _ = amqp_send_method(state, channel, COMMLOG_CHANNEL_CLOSE_OK, &closeOK)
                if channel == Self.controlChannel {
                    _ = amqp_channel_open(state, channel)
                    try check(amqp_get_rpc_reply(state), channel: channel, doing: "reopen the control channel")
                }
            }
            throw AMQPError(.channelClosed, "could not \(what): \(text)")
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == COMMLOG_CONNECTION_CLOSE:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw AMQPError(.connectionFailed, "could not \(what): \(close.reply_code) \(close.reply_text.string)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw AMQPError(.connectionLost, "could not \(what): \(Self.describe(reply.library_error))")
        default:
            throw AMQPError(.protocolError, "could not \(what): unexpected reply \(reply.reply_type)")
        }
    }

    static func describe(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}

extension MessageProperties {
    init(_ properties: amqp_basic_properties_t) {
        let flags = properties._flags
        self.init(
            contentType: flags & COMMLOG_BASIC_CONTENT_TYPE_FLAG != 0 ? properties.content_type.string : nil,
            messageID: flags & COMMLOG_BASIC_MESSAGE_ID_FLAG != 0 ? properties.message_id.string : nil,
            timestamp: flags & COMMLOG_BASIC_TIMESTAMP_FLAG != 0 ? properties.timestamp : nil,
            headers: flags & COMMLOG_BASIC_HEADERS_FLAG != 0 ? properties.headers.swiftTable : [:],
            userID: flags & COMMLOG_BASIC_USER_ID_FLAG != 0 ? properties.user_id.string : nil
        )
    }
}
