/// The work a connection does, as the state machine decides it: declares and deletes, consumers and their
/// channels, settlements, publishes and their confirms.
extension ConnectionStateMachine {
    // MARK: Declaring

    /// A declare or a queue delete, run on the control channel in the order asked for.
    enum ControlOperation {
        case declare(Topology)
        case deleteQueue(String)
    }

    /// A declare or delete arrived: it waits for a connection. The error to fail it with at once when closed.
    mutating func controlSubmitted(_ operation: ControlOperation, _ request: ControlRequest) -> AMQPError? {
        guard state != .closed else { return .connectionClosed }
        pendingControl.append((operation, request))
        return nil
    }

    /// The declare or delete to run now, skipping those nobody waits for any more; it stays first in line until
    /// `controlSucceeded` or `controlFailed`, so that one cut short by a lost connection runs on the next connection.
    mutating func nextControl() -> (operation: ControlOperation, request: ControlRequest)? {
        guard case .connected = state else { return nil }
        while let first = pendingControl.first, first.request.isAbandoned { pendingControl.removeFirst() }
        return pendingControl.first
    }

    /// The operation from `nextControl` is done: a declared topology is declared again on every new connection,
    /// a deleted queue no longer.
    mutating func controlSucceeded() {
        switch pendingControl.removeFirst().operation {
        case .declare(let topology):
            topologies.append(topology)
        case .deleteQueue(let name):
            for index in topologies.indices { topologies[index].queues.removeAll { $0.name == name } }
        }
    }

    /// The operation from `nextControl` failed by itself (the broker refused it and closed the channel): it is not
    /// tried again, and the connection carries on.
    mutating func controlFailed() {
        pendingControl.removeFirst()
    }

    // MARK: Consuming

    /// What becomes of a new consumer.
    enum ConsumeAction: Equatable {
        /// No connection: it is started with the next one.
        case wait
        /// Start it now, on this channel.
        case start(channel: UInt16)
        /// Closed: it ends at once with this error.
        case fail(AMQPError)
    }

    /// A consumer arrived: it is started now and again on every new connection, until cancelled.
    mutating func consumeSubmitted(_ registration: ConsumerRegistration) -> ConsumeAction {
        switch state {
        case .closed:
            return .fail(.connectionClosed)
        case .disconnected, .connecting:
            consumers[registration.id] = registration
            return .wait
        case .replaying, .connected:
            consumers[registration.id] = registration
            return .start(channel: openChannel(for: registration.id))
        }
    }

    /// Gives the consumer `id` the next channel of the open connection.
    mutating func openChannel(for id: Int) -> UInt16 {
        defer { nextChannel += 1 }
        consumerOfChannel[nextChannel] = id
        return nextChannel
    }

    /// The program cancelled a consumer: it ends, and the channel to close (so the broker requeues what it left
    /// unsettled) when one is open. Nil when it had ended already.
    mutating func cancelConsumer(id: Int) -> (registration: ConsumerRegistration, closeChannel: UInt16?)? {
        guard let registration = consumers.removeValue(forKey: id) else { return nil }
        let channel = consumerOfChannel.first { $0.value == id }?.key
        if let channel { consumerOfChannel[channel] = nil }
        return (registration, channel)
    }

    /// A consumer could not be started (the broker refused it): it ends and is not started again. Nil when it had ended.
    mutating func consumerFailed(id: Int) -> ConsumerRegistration? {
        if let channel = consumerOfChannel.first(where: { $0.value == id })?.key { consumerOfChannel[channel] = nil }
        return consumers.removeValue(forKey: id)
    }

    /// The broker cancelled the consumer on `channel` (its queue was deleted): it ends and is not started again.
    mutating func consumerCancelled(onChannel channel: UInt16) -> ConsumerRegistration? {
        guard let id = consumerOfChannel.removeValue(forKey: channel) else { return nil }
        return consumers.removeValue(forKey: id)
    }

    /// Who gets a delivery that arrived on `channel`, and its generation; nil when that consumer is gone (the loop
    /// rejects the delivery, and the broker requeues it).
    func consumer(onChannel channel: UInt16) -> (registration: ConsumerRegistration, generation: UInt64)? {
        let generation: UInt64
        switch state {
        case .replaying(let current, _, _), .connected(let current, _): generation = current
        case .disconnected, .connecting, .closed: return nil
        }
        guard let id = consumerOfChannel[channel], let registration = consumers[id] else { return nil }
        return (registration, generation)
    }

    /// Whether to send a consumer's ack, nack or reject: only on the connection that made the delivery (after a
    /// reconnect the broker has requeued it already, and its tag means nothing) and while the consumer is there.
    func acceptsSettlement(channel: UInt16, generation: UInt64) -> Bool {
        guard case .connected(let current, _) = state else { return false }
        return generation == current && consumerOfChannel[channel] != nil
    }

    // MARK: Publishing

    /// A publish arrived: it waits to be sent, on this connection or the next. The error to fail it with at once when closed.
    mutating func publishSubmitted(_ messages: [OutgoingMessage], deadline: ContinuousClock.Instant, waiter: Waiter) -> AMQPError? {
        guard state != .closed else { return .connectionClosed }
        publishes.submit(messages, deadline: deadline, waiter: waiter)
        return nil
    }

    /// The messages to send now, each with the publish tag it goes out with; they count as in flight from here on.
    /// Should sending fail, the loop reports the connection lost, and they are sent again on the next connection.
    mutating func flush() -> [(tag: UInt64, message: OutgoingMessage)] {
        guard case .connected = state else { return [] }
        return publishes.flush()
    }

    /// The broker confirmed (`acknowledged`) or refused the publish tag `tag`, or with `multiple` every tag up to it.
    mutating func confirmed(tag: UInt64, multiple: Bool, acknowledged: Bool) -> [Completion] {
        guard case .connected = state else { return [] }
        return publishes.confirm(upTo: tag, multiple: multiple, acknowledged: acknowledged)
    }

    /// The broker returned the message sent with `tag` (it reached no queue); its confirm follows and fails the publish.
    mutating func returned(tag: UInt64, reason: String) {
        guard case .connected = state else { return }
        publishes.returned(tag: tag, reason: reason)
    }

    /// Publishes whose deadline has passed fail with `.timeout`, on a connection or not.
    mutating func expire(now: ContinuousClock.Instant) -> [Completion] {
        publishes.expire(now: now)
    }
}
