import Foundation

/// Exchanges, queues and bindings a program needs; declared on connect and again after every reconnect.
public struct Topology: Sendable {
    public struct Exchange: Sendable, Hashable {
        public var name: String
        public var type: String
        public init(name: String, type: String = "topic") {
            self.name = name
            self.type = type
        }
    }

    public struct Queue: Sendable, Hashable {
        public var name: String
        /// Routing keys bound on `commlog.events` (patterns allowed: `practice.#`).
        public var bindings: [String]
        public var exchange: String
        /// Deliveries before the broker dead-letters a message (`x-delivery-limit`); nil for none declared.
        ///
        /// Commlog's own queues declare none: the delivery limit and length limits are a policy's
        /// (`deploy/rabbitmq/definitions.json`), which an operator changes without redeclaring anything, and the
        /// consumers dead-letter a message delivered `COMMLOG_DELIVERY_LIMIT` times themselves.
        public var deliveryLimit: Int?
        /// Where rejected or over-limit messages go; nil for none (the dead-letter queue itself).
        public var deadLetterExchange: String?
        /// Delete the queue after it has been unused this long (`x-expires`); nil to keep it. Tests and benchmarks use it.
        public var expiresAfter: Duration?
        /// A queue for the process that declares it only (live views): a classic queue, not durable, exclusive to
        /// the connection and deleted with it, holding at most `maximumLength` messages (the oldest are dropped).
        /// Not for anything that must not be lost: it has no delivery limit and no dead-lettering.
        public var isTransient = false
        /// Most messages a transient queue holds before it drops the oldest (`x-max-length`).
        public var maximumLength: Int?
        /// Never drop a message however often it is delivered: the dead-letter queue. RabbitMQ 3 has no limit
        /// unless one is set (and reads `-1` as "drop at the first return"); RabbitMQ 4 gives every quorum queue a
        /// limit of 20 unless it is declared with `x-delivery-limit: -1`.
        public var hasUnlimitedDeliveries = false

        public init(
            name: String,
            bindings: [String],
            exchange: String = Topology.eventsExchange,
            deliveryLimit: Int? = nil,
            deadLetterExchange: String? = Topology.deadLetterExchange,
            expiresAfter: Duration? = nil
        ) {
            self.name = name
            self.bindings = bindings
            self.exchange = exchange
            self.deliveryLimit = deliveryLimit
            self.deadLetterExchange = deadLetterExchange
            self.expiresAfter = expiresAfter
        }

        /// A transient queue for this process alone (see `isTransient`).
        public static func transient(name: String, bindings: [String], exchange: String = Topology.eventsExchange, maximumLength: Int) -> Queue {
            var queue = Queue(name: name, bindings: bindings, exchange: exchange, deliveryLimit: nil, deadLetterExchange: nil)
            queue.isTransient = true
            queue.maximumLength = maximumLength
            return queue
        }

        /// Declare arguments for a broker of `brokerMajorVersion` (nil when it did not say).
        public func arguments(brokerMajorVersion: Int?) -> AMQPTable {
            var arguments = self.arguments
            if hasUnlimitedDeliveries, let brokerMajorVersion, brokerMajorVersion >= 4 { arguments["x-delivery-limit"] = .int(-1) }
            return arguments
        }

        /// Arguments a policy may set as well (`delivery-limit`, `max-length`, `max-length-bytes`, `message-ttl`): a
        /// queue that exists with another value of one of these is used as it is, not refused.
        public static let policyArguments: Set<String> = ["x-delivery-limit", "x-max-length", "x-max-length-bytes", "x-message-ttl"]

        /// The argument a `PRECONDITION_FAILED` declare names (`inequivalent arg 'x-delivery-limit' for queue …`).
        public static func inequivalentArgument(in message: String) -> String? {
            guard let start = message.range(of: "inequivalent arg '")?.upperBound,
                  let end = message[start...].firstIndex(of: "'") else { return nil }
            return String(message[start..<end])
        }

        /// Declare arguments: a quorum queue, at-least-once dead-lettering (which needs `reject-publish`).
        var arguments: AMQPTable {
            if isTransient {
                var arguments: AMQPTable = ["x-queue-type": "classic"]
                if let maximumLength { arguments["x-max-length"] = .int(Int64(maximumLength)) }
                return arguments
            }
            var arguments: AMQPTable = ["x-queue-type": "quorum"]
            if let deliveryLimit { arguments["x-delivery-limit"] = .int(Int64(deliveryLimit)) }
            if let deadLetterExchange {
                arguments["x-dead-letter-exchange"] = .string(deadLetterExchange)
                arguments["x-dead-letter-strategy"] = "at-least-once"
                arguments["x-overflow"] = "reject-publish"
            }
            if let expiresAfter {
                arguments["x-expires"] = .int(expiresAfter.components.seconds * 1000)
            }
            return arguments
        }
    }

    /// The one topic exchange every Commlog event goes through.
    public static let eventsExchange = "commlog.events"
    /// Where messages that can never be processed go, with their reason.
    public static let deadLetterExchange = "commlog.dead-letter"
    /// The queue that keeps every dead letter until it is archived in PostgreSQL.
    public static let deadLetterQueue = "commlog.dead-letters"

    public var exchanges: [Exchange]
    public var queues: [Queue]

    public init(exchanges: [Exchange] = [], queues: [Queue] = []) {
        self.exchanges = exchanges
        self.queues = queues
    }

    /// The shared part: both exchanges and the dead-letter queue (no limit, no dead-lettering of its own).
    public static var base: Topology {
        var deadLetters = Queue(name: deadLetterQueue, bindings: ["#"], exchange: deadLetterExchange, deliveryLimit: nil, deadLetterExchange: nil)
        deadLetters.hasUnlimitedDeliveries = true
        return Topology(exchanges: [Exchange(name: eventsExchange), Exchange(name: deadLetterExchange)], queues: [deadLetters])
    }

    /// The major version in a broker's `version` server property (`"3.13.7"`, `"4.1.0"`); nil when there is none.
    public static func majorVersion(_ version: String?) -> Int? {
        guard let version, let major = version.split(separator: ".").first else { return nil }
        return Int(major)
    }

    /// The base topology plus `queues`.
    public static func commlog(queues: [Queue]) -> Topology {
        var topology = base
        topology.queues += queues
        return topology
    }
}
