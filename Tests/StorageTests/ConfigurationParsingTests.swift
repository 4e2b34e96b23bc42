import Messaging
import Storage
import Testing

@Suite("Connection URLs")
struct ConfigurationParsingTests {
    @Test func amqpURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://commlog:p%40ss@127.0.0.1:55672/commlog")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 55672)
        #expect(configuration.user == "commlog")
        #expect(configuration.password == "p@ss")
        #expect(configuration.virtualHost == "commlog")
        #expect(!configuration.tls)
        #expect(try AMQPConfiguration(url: "amqps://u:p@broker/%2F").virtualHost == "/")
        #expect(try AMQPConfiguration(url: "amqps://u:p@broker").port == 5671)
    }

    @Test("a cluster: comma-separated nodes, full URLs or host[:port], tried in turn")
    func amqpCluster() throws {
        let configuration = try AMQPConfiguration(url: "amqp://u:p@rabbit-1/commlog, rabbit-2:5673,amqp://u:p@rabbit-3:5674/commlog")
        #expect(configuration.nodes.map(\.description) == ["rabbit-1:5672", "rabbit-2:5673", "rabbit-3:5674"])
        #expect(configuration.virtualHost == "commlog" && configuration.user == "u")
        #expect((0..<4).map { configuration.node(attempt: $0).host } == ["rabbit-1", "rabbit-2", "rabbit-3", "rabbit-1"])
        #expect(try AMQPConfiguration(url: "amqps://u:p@a,b").nodes.map(\.port) == [5671, 5671])
        #expect(try AMQPConfiguration(url: "amqp://u:p@only").nodes.count == 1)
    }

    @Test(arguments: [
        "http://x", "amqp://", "not a url", "", "amqp://u:p@a,", "amqp://u:p@a,b/vhost", "amqp://u:p@a/v,amqp://other:p@b/v",
        "amqp://u:p@a/v,amqps://u:p@b/v", "amqp://u:p@a,x@b",
    ])
    func badAMQPURL(_ url: String) {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
    }

    @Test func databaseURL() throws {
        let configuration = try DatabaseConfiguration(url: "postgres://commlog_app:secret@db.internal:6543/commlog?sslmode=require")
        #expect(configuration.host == "db.internal")
        #expect(configuration.port == 6543)
        #expect(configuration.user == "commlog_app")
        #expect(configuration.password == "secret")
        #expect(configuration.database == "commlog")
        #expect(configuration.tlsMode == "require")
        #expect(try DatabaseConfiguration(url: "postgres://me@localhost").tlsMode == "disable")
        #expect(try DatabaseConfiguration(url: "postgres://me@127.0.0.1/db").tlsMode == "disable")
        // A remote server without sslmode: TLS required, never the downgradable prefer.
        #expect(try DatabaseConfiguration(url: "postgres://me@db.internal/db").tlsMode == "require")
        #expect(try DatabaseConfiguration(url: "postgres://me@db.internal/db?sslmode=prefer").tlsMode == "prefer")
        #expect(try DatabaseConfiguration(url: "postgres://me@localhost").database == "me")
    }

    @Test(arguments: ["mysql://u@h/db", "postgres://h/db", "postgres://u@h/db?sslmode=verify-full"])
    func badDatabaseURL(_ url: String) {
        #expect(throws: DatabaseError.self) { try DatabaseConfiguration(url: url) }
    }
}
