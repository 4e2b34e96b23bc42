import Foundation

/// Where and how to reach RabbitMQ.
public struct AMQPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var virtualHost: String
    public var user: String
    public var password: String
    /// Connect with TLS (`amqps://`). Verifies the peer against the system trust store.
    public var tls: Bool
    /// Heartbeat interval negotiated with the broker; a dead peer is noticed after about twice this. Default 30 s.
    public var heartbeat: Duration = .seconds(30)
    /// Name shown in the broker's management views, e.g. `reminder-logger`.
    public var connectionName: String = "commlog"
    /// Delay before the first reconnect attempt; doubles up to `maximumReconnectDelay`. Default 250 ms.
    public var minimumReconnectDelay: Duration = .milliseconds(250)
    /// Longest delay between reconnect attempts. Default 10 s.
    public var maximumReconnectDelay: Duration = .seconds(10)
    /// The broker's major version, for a broker (or proxy) that does not give one in its `version` server property;
    /// nil to read it from the broker. It decides the dead-letter queue's declared delivery limit.
    public var brokerMajorVersion: Int?

    public init(host: String, port: Int = 5672, virtualHost: String = "/", user: String, password: String, tls: Bool = false) {
        self.host = host
        self.port = port
        self.virtualHost = virtualHost
        self.user = user
        self.password = password
        self.tls = tls
    }

    /// Parses `amqp://user:password@host:port/vhost` (or `amqps://`); the vhost is percent-decoded and defaults to `/`.
    public init(url: String) throws(AMQPError) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "amqp" || scheme == "amqps",
              let host = components.host, !host.isEmpty
        else {
            throw AMQPError(.configuration, "not an AMQP URL (expected amqp://user:password@host:port/vhost)")
        }
        let tls = scheme == "amqps"
        var vhost = components.percentEncodedPath
        if vhost.hasPrefix("/") { vhost.removeFirst() }
        vhost = vhost.removingPercentEncoding ?? vhost
        self.init(
            host: host,
            port: components.port ?? (tls ? 5671 : 5672),
            virtualHost: vhost.isEmpty ? "/" : vhost,
            user: components.user?.removingPercentEncoding ?? "guest",
            password: components.password?.removingPercentEncoding ?? "guest",
            tls: tls
        )
    }
}
