internal import CRabbitMQ
import Foundation
import Logging

/// What the loop reads from the broker: confirms, returns, deliveries, cancels and closes, each handed to the
/// state machine or to the consumer it is for.
extension ConnectionLoop {
    func pumpFrames(_ owner: AMQPConnection) throws {
        guard let handle else { return }
        // Bounded, so that acks and publishes queued meanwhile are not starved by a stream of deliveries.
        for _ in 0..<2048 {
            var frame = amqp_frame_t()
            var immediately = timeval(tv_sec: 0, tv_usec: 0)
            let status = amqp_simple_wait_frame_noblock(handle, &frame, &immediately)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(.connectionLost, Self.describe(status))
            }
            try receive(frame, owner: owner)
            if self.handle == nil { return }
        }
        amqp_maybe_release_buffers(handle)
    }

    private func receive(_ frame: amqp_frame_t, owner: AMQPConnection) throws {
        guard frame.frame_type == AMQP_FRAME_METHOD, let handle else { return }
        let method = frame.payload.method
        let channel = frame.channel
        switch method.id {
        case COMMLOG_BASIC_ACK:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            for completion in machine.confirmed(tag: ack.delivery_tag, multiple: ack.multiple != 0, acknowledged: true) { resume(completion) }
        case COMMLOG_BASIC_NACK:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            for completion in machine.confirmed(tag: nack.delivery_tag, multiple: nack.multiple != 0, acknowledged: false) { resume(completion) }
        case COMMLOG_BASIC_RETURN:
            let returnMethod = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let reason = "\(returnMethod.reply_code) \(returnMethod.reply_text.string)"
            var message = amqp_message_t()
            try check(amqp_read_message(handle, channel, &message, 0), channel: channel, doing: "read a returned message")
            defer { amqp_destroy_message(&message) }
            if let tag = MessageProperties(message.properties).headers[OutgoingMessage.publishTagHeader]?.intValue {
                machine.returned(tag: UInt64(tag), reason: reason)
            }
        case COMMLOG_BASIC_DELIVER:
            let deliverMethod = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            try deliver(deliverMethod, channel: channel, owner: owner)
        case COMMLOG_BASIC_CANCEL:
            if let registration = machine.consumerCancelled(onChannel: channel) {
                end(registration, throwing: AMQPError(.consumerCancelled, "the broker cancelled the consumer of \(registration.queue)"))
            }
        case COMMLOG_CHANNEL_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var closeOK = amqp_channel_close_ok_t()
            _ = amqp_send_method(handle, channel, COMMLOG_CHANNEL_CLOSE_OK, &closeOK)
            let reason = "\(close.reply_code) \(close.reply_text.string)"
            // 403 ACCESS_REFUSED, 404 NOT_FOUND on the publish channel: what was published is refused, not the connection.
            if channel == Self.publishChannel, close.reply_code == 403 || close.reply_code == 404 {
                throw AMQPError(.publishRefused, "the broker refused a publish: \(reason)")
            }
            throw AMQPError(.connectionLost, "the broker closed channel \(channel): \(reason)")
        case COMMLOG_CONNECTION_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var closeOK = amqp_connection_close_ok_t()
            _ = amqp_send_method(handle, 0, COMMLOG_CONNECTION_CLOSE_OK, &closeOK)
            throw AMQPError(.connectionLost, "the broker closed the connection: \(close.reply_code) \(close.reply_text.string)")
        case COMMLOG_CONNECTION_BLOCKED:
            logger.warning("the broker blocked publishing (resource alarm)")
        case COMMLOG_CONNECTION_UNBLOCKED:
            logger.info("the broker unblocked publishing")
        default:
            break
        }
    }

    private func deliver(_ method: amqp_basic_deliver_t, channel: UInt16, owner: AMQPConnection) throws {
        guard let handle else { return }
        let exchange = method.exchange.string
        let routingKey = method.routing_key.string
        var message = amqp_message_t()
        try check(amqp_read_message(handle, channel, &message, 0), channel: channel, doing: "read a delivery")
        defer { amqp_destroy_message(&message) }
        guard let (registration, generation) = machine.consumer(onChannel: channel) else {
            _ = amqp_basic_reject(handle, channel, method.delivery_tag, 1)
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

    // MARK: Errors

    /// Turns an RPC reply into success or an error; answers a channel close so the channel can be reopened.
    func check(_ reply: amqp_rpc_reply_t, channel: UInt16, doing what: String) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == COMMLOG_CHANNEL_CLOSE:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let text = "\(close.reply_code) \(close.reply_text.string)"
            if let handle {
                var closeOK = amqp_channel_close_ok_t()
                _ = amqp_send_method(handle, channel, COMMLOG_CHANNEL_CLOSE_OK, &closeOK)
                if channel == Self.controlChannel {
                    _ = amqp_channel_open(handle, channel)
                    try check(amqp_get_rpc_reply(handle), channel: channel, doing: "reopen the control channel")
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
