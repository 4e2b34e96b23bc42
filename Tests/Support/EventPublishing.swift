import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging

/// Publishes contract events the way the practice software does, to a topic exchange of the test's own,
/// so that tests running side by side (and a running `make run`) never see each other's events.
public struct TestExchange: Sendable {
    public let name: String
    public let connection: AMQPConnection

    /// Declares a new topic exchange and `queue` bound to it with `bindings`.
    public static func declare(queue: String, bindings: [String], on connection: AMQPConnection) async throws -> TestExchange {
        let exchange = TestEnvironment.unique("test.events")
        try await connection.declare(Topology.commlog(queues: []).adding(
            exchange: exchange, queue: Topology.Queue(name: queue, bindings: bindings, exchange: exchange, expiresAfter: .seconds(900))
        ))
        return TestExchange(name: exchange, connection: connection)
    }

    public func publish<Payload: Encodable & Sendable>(_ envelope: EventEnvelope<Payload>) async throws {
        try await publish([envelope.outgoing()])
    }

    /// Publishes raw bodies (malformed events) with the given routing key.
    public func publishRaw(_ body: String, routingKey: String, messageID: String) async throws {
        try await publish([OutgoingMessage(exchange: name, routingKey: routingKey, body: Array(body.utf8), messageID: messageID)])
    }

    public func publish(_ messages: [OutgoingMessage]) async throws {
        try await connection.publish(messages.map { message in
            var message = message
            message.exchange = name
            return message
        }, timeout: .seconds(60))
    }
}

extension Topology {
    func adding(exchange: String, queue: Queue) -> Topology {
        var topology = self
        topology.exchanges.append(Exchange(name: exchange))
        topology.queues.append(queue)
        return topology
    }
}
