/// A message to publish: persistent, confirmed by the broker before `publish` returns, and by default
/// mandatory (a message that reaches no queue is an error rather than silently dropped).
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var contentType: String?
    public var messageID: String?
    public var headers: AMQPTable
    /// Seconds since 1970, as AMQP's `timestamp` property.
    public var timestamp: UInt64?
    /// Whether reaching no queue is an error (`basic.return`). Off for notifications nobody may be listening to.
    public var mandatory: Bool

    /// Header the connection adds to every message: its publish sequence number, so that a returned message
    /// can be matched to its confirm. Not part of the message's meaning (dead-letter replay strips it).
    public static let publishTagHeader = "x-commlog-publish-tag"

    public init(
        exchange: String,
        routingKey: String,
        body: [UInt8],
        contentType: String? = "application/json",
        messageID: String? = nil,
        headers: AMQPTable = [:],
        timestamp: UInt64? = nil,
        mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.contentType = contentType
        self.messageID = messageID
        self.headers = headers
        self.timestamp = timestamp
        self.mandatory = mandatory
    }
}

/// The properties of a received message that Commlog reads.
public struct MessageProperties: Sendable {
    public var contentType: String?
    public var messageID: String?
    public var timestamp: UInt64?
    public var headers: AMQPTable
    /// The broker user that published the message (`user_id`): RabbitMQ refuses a publish whose `user_id` is not
    /// the publishing connection's user, so a consumer can trust it. Every Commlog connection sets it.
    public var userID: String?

    public init(contentType: String? = nil, messageID: String? = nil, timestamp: UInt64? = nil, headers: AMQPTable = [:], userID: String? = nil) {
        self.contentType = contentType
        self.messageID = messageID
        self.timestamp = timestamp
        self.headers = headers
        self.userID = userID
    }
}
