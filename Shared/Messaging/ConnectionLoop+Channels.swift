internal import CRabbitMQ
import Foundation
import Logging

/// What the loop sends on its channels: declares and deletes on the control channel, consumers on their own
/// channels, messages on the publish channel.
extension ConnectionLoop {
    // MARK: Topology

    /// Runs the declares and deletes waiting for the control channel. One the broker refuses fails alone; any other
    /// failure ends the connection, and the operation runs again on the next one.
    func runPendingControl() throws {
        while let (operation, request) = machine.nextControl() {
            do {
                switch operation {
                case .declare(let topology): try declare(topology)
                case .deleteQueue(let name): try deleteQueue(name)
                }
                machine.controlSucceeded()
                request.complete()
            } catch let error as AMQPError where error.code == .channelClosed {
                machine.controlFailed()
                request.complete(throwing: error)
            }
        }
    }

    private func deleteQueue(_ name: String) throws {
        guard let handle else { throw AMQPError(.connectionLost, "not connected") }
        pool.recycle()
        _ = amqp_queue_delete(handle, Self.controlChannel, pool.bytes(name), 0, 0)
        try check(amqp_get_rpc_reply(handle), channel: Self.controlChannel, doing: "delete queue \(name)")
    }

    func declare(_ topology: Topology) throws {
        guard let handle else { throw AMQPError(.connectionLost, "not connected") }
        let channel = Self.controlChannel
        for exchange in topology.exchanges {
            pool.recycle()
            _ = amqp_exchange_declare(handle, channel, pool.bytes(exchange.name), pool.bytes(exchange.type), 0, 1, 0, 0, commlog_empty_table())
            try check(amqp_get_rpc_reply(handle), channel: channel, doing: "declare exchange \(exchange.name)")
        }
        for queue in topology.queues {
            pool.recycle()
            // passive 0; durable, exclusive, auto-delete: a quorum queue is durable, a transient one the opposite.
            let durable: amqp_boolean_t = queue.isTransient ? 0 : 1
            let temporary: amqp_boolean_t = queue.isTransient ? 1 : 0
            let arguments = queue.arguments(brokerMajorVersion: machine.brokerMajorVersion)
            _ = amqp_queue_declare(handle, channel, pool.bytes(queue.name), 0, durable, temporary, temporary, pool.table(arguments))
            do {
                try check(amqp_get_rpc_reply(handle), channel: channel, doing: "declare queue \(queue.name)")
            } catch let error as AMQPError where error.code == .channelClosed && !queue.isTransient {
                // The queue exists with another value of an argument a policy may set (declared by an older Commlog
                // with x-delivery-limit, or under RabbitMQ 3): it still works as it is, so use it, and say so.
                guard let argument = Topology.Queue.inequivalentArgument(in: error.message),
                      Topology.Queue.policyArguments.contains(argument) else { throw error }
                if queue.hasUnlimitedDeliveries && arguments["x-delivery-limit"] != nil {
                    logger.error("the dead-letter queue has the broker's default delivery limit: lift it with a policy", metadata: [
                        "queue": "\(queue.name)", "error": "\(error)",
                        "policy": "rabbitmqctl set_policy --apply-to quorum_queues commlog-dead-letters '^commlog\\.dead-letters$' '{\"delivery-limit\":-1}'",
                    ])
                } else {
                    logger.warning("the queue was declared before with another \(argument): used as it is; a policy sets it now", metadata: [
                        "queue": "\(queue.name)", "error": "\(error)",
                    ])
                }
                pool.recycle()
                _ = amqp_queue_declare(handle, channel, pool.bytes(queue.name), 1, durable, temporary, temporary, commlog_empty_table())
                try check(amqp_get_rpc_reply(handle), channel: channel, doing: "declare queue \(queue.name) (passive)")
            }
            for key in queue.bindings {
                pool.recycle()
                _ = amqp_queue_bind(handle, channel, pool.bytes(queue.name), pool.bytes(queue.exchange), pool.bytes(key), commlog_empty_table())
                try check(amqp_get_rpc_reply(handle), channel: channel, doing: "bind \(queue.name) to \(queue.exchange) with \(key)")
            }
        }
    }

    // MARK: Consuming

    func startConsumer(_ registration: ConsumerRegistration, on channel: UInt16) throws {
        guard let handle else { return }
        _ = amqp_channel_open(handle, channel)
        try check(amqp_get_rpc_reply(handle), channel: channel, doing: "open a consumer channel")
        _ = amqp_basic_qos(handle, channel, 0, registration.prefetch, 0)
        try check(amqp_get_rpc_reply(handle), channel: channel, doing: "set prefetch \(registration.prefetch)")
        pool.recycle()
        _ = amqp_basic_consume(handle, channel, pool.bytes(registration.queue), pool.bytes("commlog-\(registration.id)"), 0, 0, 0, commlog_empty_table())
        try check(amqp_get_rpc_reply(handle), channel: channel, doing: "consume \(registration.queue)")
    }

    // MARK: Publishing

    /// Sends what waits to be published; a failed send ends the connection, and the machine sends it again on the next.
    func flushUnsent() throws {
        guard let handle else { return }
        for (tag, message) in machine.flush() {
            let status = publish(message, tag: tag, on: handle)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(.connectionLost, "publish failed: \(Self.describe(status))")
            }
        }
    }

    private func publish(_ message: OutgoingMessage, tag: UInt64, on handle: amqp_connection_state_t) -> Int32 {
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
            return amqp_basic_publish(handle, Self.publishChannel, exchange, routingKey, message.mandatory ? 1 : 0, 0, &properties, bytes)
        }
    }
}
