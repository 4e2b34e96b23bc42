/// A failure talking to RabbitMQ, with a readable description.
public struct AMQPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; callers branch on it, people read `description`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case configuration, connectionFailed, connectionLost, channelClosed, publishRejected, publishRefused, unroutable
            case timeout, consumerCancelled, shutdown, protocolError
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration is unusable (bad URL and the like).
        public static let configuration = Code(.configuration)
        /// The broker could not be reached or refused the login.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection went away while the operation was in flight; it may be retried.
        public static let connectionLost = Code(.connectionLost)
        /// The broker closed a channel, for example on a declare with conflicting arguments.
        public static let channelClosed = Code(.channelClosed)
        /// The broker answered a publish with `basic.nack`.
        public static let publishRejected = Code(.publishRejected)
        /// The broker closed the publish channel over a message (no permission for its exchange or routing key, no
        /// such exchange): that publish fails instead of being sent again for ever.
        public static let publishRefused = Code(.publishRefused)
        /// A mandatory publish matched no queue and came back with `basic.return`.
        public static let unroutable = Code(.unroutable)
        /// The operation did not finish in time (for example no connection before the publish deadline).
        public static let timeout = Code(.timeout)
        /// The broker cancelled a consumer (its queue was deleted).
        public static let consumerCancelled = Code(.consumerCancelled)
        /// The connection is shutting down and takes no more work.
        public static let shutdown = Code(.shutdown)
        /// The broker or the library reported something this wrapper did not expect.
        public static let protocolError = Code(.protocolError)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "AMQP \(code): \(message)" }
}
