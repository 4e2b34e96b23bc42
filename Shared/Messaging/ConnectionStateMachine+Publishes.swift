extension ConnectionStateMachine {
    /// Publishes the broker has yet to confirm, each message either waiting to be sent or in the confirm window.
    ///
    /// Publish tags number the messages sent on one connection's publish channel; when the connection goes, its window's
    /// messages go back to the front of the queue, to be sent again (consumers are idempotent) until the deadline.
    struct Publishes {
        /// One message of a publish: the publish's number and the message's index in it.
        struct Message: Hashable {
            let publish: UInt64
            let index: Int
        }

        private struct Publish {
            let waiter: Waiter
            let messages: [OutgoingMessage]
            let deadline: ContinuousClock.Instant
            /// Indexes of messages the broker has not confirmed.
            var unconfirmed: Set<Int>
            /// Why a confirmed message failed (the latest such); the publish fails with it once all are confirmed.
            var failure: AMQPError?

            /// Records the broker's answer for message `index`; true once every message has one.
            mutating func confirm(_ index: Int, acknowledged: Bool, returnedBecause reason: String?) -> Bool {
                unconfirmed.remove(index)
                let routingKey = messages[index].routingKey
                if let reason {
                    failure = AMQPError(.unroutable, "\(routingKey): \(reason)")
                } else if !acknowledged {
                    failure = AMQPError(.publishRejected, "the broker refused \(routingKey)")
                }
                return unconfirmed.isEmpty
            }
        }

        private var pending: [UInt64: Publish] = [:]
        private var lastNumber: UInt64 = 0
        private var unsent: [Message] = []
        private var confirms = ConfirmWindow<Message>()
        /// Why the broker returned a message, by publish tag, until its confirm arrives.
        private var returned: [UInt64: String] = [:]

        /// The nearest deadline of a publish still waiting.
        var earliestDeadline: ContinuousClock.Instant? { pending.values.lazy.map(\.deadline).min() }

        mutating func submit(_ messages: [OutgoingMessage], deadline: ContinuousClock.Instant, waiter: Waiter) {
            lastNumber += 1
            pending[lastNumber] = Publish(waiter: waiter, messages: messages, deadline: deadline, unconfirmed: Set(messages.indices))
            unsent += messages.indices.map { Message(publish: lastNumber, index: $0) }
        }

        /// Moves the unsent messages of publishes still waiting into the confirm window, each with its publish tag.
        mutating func flush() -> [(tag: UInt64, message: OutgoingMessage)] {
            var outgoing: [(tag: UInt64, message: OutgoingMessage)] = []
            outgoing.reserveCapacity(unsent.count)
            for message in unsent {
                guard let publish = pending[message.publish] else { continue }
                let tag = confirms.nextTag
                confirms.append(tag: tag, message)
                outgoing.append((tag, publish.messages[message.index]))
            }
            unsent.removeAll()
            return outgoing
        }

        /// The broker's confirms for `tag` (or every tag up to it): the publishes they complete.
        mutating func confirm(upTo tag: UInt64, multiple: Bool, acknowledged: Bool) -> [Completion] {
            var completed: [Completion] = []
            for entry in confirms.remove(upTo: tag, multiple: multiple) {
                // Taken even for a publish that timed out meanwhile, so that the tag's return does not linger.
                let reason = returned.removeValue(forKey: entry.tag)
                guard let position = pending.index(forKey: entry.payload.publish) else { continue }
                // Changed in place: a copy of a large publish's unconfirmed set per confirm would cost quadratic time.
                if pending.values[position].confirm(entry.payload.index, acknowledged: acknowledged, returnedBecause: reason) {
                    let publish = pending.remove(at: position).value
                    completed.append(Completion(waiter: publish.waiter, error: publish.failure))
                }
            }
            return completed
        }

        mutating func returned(tag: UInt64, reason: String) {
            returned[tag] = reason
        }

        /// The broker closed the publish channel over a message in the confirm window: the publishes of the
        /// messages whose exchange or routing key the refusal names (`access to topic 'phone.call.event' …`,
        /// `no exchange 'x'`) fail with `error`; when it names none of them, every publish with a message in the
        /// window does, so that a refused message is never sent again for ever. The others go round again.
        mutating func refuseInFlight(_ error: AMQPError) -> [Completion] {
            let inFlight = Set(confirms.payloads.map(\.publish))
            func named(_ number: UInt64) -> Bool {
                guard let publish = pending[number] else { return false }
                return publish.messages.contains { message in
                    // A topic refusal names the exchange too: then only the routing key tells the message.
                    if error.message.contains("topic '") { return error.message.contains("topic '\(message.routingKey)'") }
                    return error.message.contains("exchange '\(message.exchange.isEmpty ? "amq.default" : message.exchange)'")
                }
            }
            let refused = inFlight.contains(where: named) ? inFlight.filter(named) : inFlight
            return refused.compactMap { number in
                pending.removeValue(forKey: number).map { Completion(waiter: $0.waiter, error: error) }
            }
        }

        /// The connection is gone, and its publish tags with it: what it had not confirmed goes first in line.
        mutating func requeueUnconfirmed() {
            let inFlight = confirms.removeAll().map(\.payload).filter { pending[$0.publish] != nil }
            unsent = inFlight + unsent
            returned = [:]
        }

        /// Fails the publishes whose deadline has passed, with how many of their messages were still unconfirmed.
        mutating func expire(now: ContinuousClock.Instant) -> [Completion] {
            var expired: [Completion] = []
            for (number, publish) in pending where publish.deadline <= now {
                let error = AMQPError(.timeout, "the broker did not confirm \(publish.unconfirmed.count) of \(publish.messages.count) messages in time")
                expired.append(Completion(waiter: publish.waiter, error: error))
                pending[number] = nil
            }
            if !expired.isEmpty { unsent.removeAll { pending[$0.publish] == nil } }
            return expired
        }

        /// Empties everything (the connection is closing), returning the waiter of every publish still waiting.
        mutating func removeAll() -> [Waiter] {
            defer { self = Publishes() }
            return pending.values.map(\.waiter)
        }
    }
}
