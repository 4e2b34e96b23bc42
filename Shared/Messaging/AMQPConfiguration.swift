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

    /// One broker of a cluster: where to reach it.
    public struct Node: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    /// The brokers to try, in turn: each connection attempt goes to the next (the first node is `host`/`port`).
    public var nodes: [Node] {
        get { [Node(host: host, port: port)] + otherNodes }
        set {
            guard let first = newValue.first else { return }
            (host, port) = (first.host, first.port)
            otherNodes = Array(newValue.dropFirst())
        }
    }

    private var otherNodes: [Node] = []

    /// The node of the `attempt`th connection attempt (from 0): round robin, so that a node that is down is passed
    /// over on the next attempt and a cluster keeps the connections spread.
    public func node(attempt: Int) -> Node {
        let nodes = nodes
        return nodes[attempt % nodes.count]
    }

    /// Parses `amqp://user:password@host:port/vhost` (or `amqps://`); the vhost is percent-decoded and defaults to `/`.
    ///
    /// A cluster is a comma-separated list of nodes: full URLs that differ only in host and port, or, after the
    /// first, `host` or `host:port` alone (`amqp://u:p@rabbit-1/commlog,rabbit-2,rabbit-3:5673`).
    public init(url: String) throws(AMQPError) {
        let entries = url.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var configuration = try Self(single: entries[0])
        for entry in entries.dropFirst() {
            if entry.contains("://") {
                let other = try Self(single: entry)
                guard other.user == configuration.user, other.password == configuration.password,
                      other.virtualHost == configuration.virtualHost, other.tls == configuration.tls else {
                    throw AMQPError(.configuration, "the nodes of a cluster differ only in host and port (\(other.host) has another user, vhost or scheme)")
                }
                configuration.otherNodes.append(Node(host: other.host, port: other.port))
            } else {
                guard let components = URLComponents(string: "amqp://\(entry)"), let host = components.host, !host.isEmpty,
                      components.path.isEmpty, components.user == nil else {
                    throw AMQPError(.configuration, "not a node of the cluster (expected host or host:port, got \"\(entry)\")")
                }
                configuration.otherNodes.append(Node(host: host, port: components.port ?? (configuration.tls ? 5671 : 5672)))
            }
        }
        self = configuration
    }

    private init(single url: String) throws(AMQPError) {
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
