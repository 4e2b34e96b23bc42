import Foundation
import Logging
import Synchronization
import Testing

@testable import Messaging

/// The connection's parts that need no broker: the confirm window, the ack sequencer, the delivery buffer,
/// and the closed state a connection enters after `shutdown()`.
@Suite("Messaging core, without a broker")
struct ConnectionCoreTests {
    // MARK: Confirm window

    @Test("confirms clear single tags and runs (multiple), in any order; the window compacts and empties in order")
    func confirmWindow() {
        var window = ConfirmWindow<Int>()
        #expect(window.nextTag == 1 && window.isEmpty)
        for value in 1...10 { window.append(tag: window.nextTag, value) }
        #expect(window.nextTag == 11)
        #expect(window.remove(upTo: 3, multiple: false).map(\.payload) == [3])
        #expect(window.remove(upTo: 5, multiple: true).map(\.payload) == [1, 2, 4, 5])
        #expect(window.remove(upTo: 5, multiple: true).isEmpty)  // a confirm repeated
        #expect(window.remove(upTo: 99, multiple: false).isEmpty)  // a tag never handed out
        #expect(window.remove(upTo: 0, multiple: true).isEmpty)
        #expect(window.removeAll().map(\.payload) == [6, 7, 8, 9, 10])
        #expect(window.isEmpty && window.nextTag == 1)  // a new channel numbers from 1 again

        // Thousands confirmed one by one, out of order in pairs: the front advances, the tags stay consecutive.
        for value in 1...10_000 { window.append(tag: window.nextTag, value) }
        var confirmed: [Int] = []
        for tag in stride(from: 2, through: 10_000, by: 2) {
            confirmed += window.remove(upTo: UInt64(tag), multiple: false).map(\.payload)
            confirmed += window.remove(upTo: UInt64(tag - 1), multiple: false).map(\.payload)
        }
        #expect(confirmed.count == 10_000 && Set(confirmed).count == 10_000)
        #expect(window.isEmpty && window.nextTag == 10_001)
        window.append(tag: 10_001, 1)
        #expect(window.remove(upTo: 10_001, multiple: true).map(\.payload) == [1])
    }

    // MARK: Ack sequencer

    /// Records what would be sent to the broker.
    final class Settlements: DeliverySettler {
        let sent = Mutex<[String]>([])
        func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, generation: UInt64) {
            let text = switch settlement {
            case .ack(let multiple): multiple ? "ack*" : "ack"
            case .nack(let requeue, _): requeue ? "requeue" : "nack"
            case .reject: "reject"
            }
            sent.withLock { $0.append("\(text) \(tag)@\(channel).\(generation)") }
        }
        var log: [String] { sent.withLock { $0 } }
    }

    static func deliveries(_ tags: ClosedRange<UInt64>, channel: UInt16 = 3, generation: UInt64 = 1, settler: Settlements) -> [AMQPDelivery] {
        tags.map {
            AMQPDelivery(queue: "q", exchange: "x", routingKey: "k", body: [], properties: MessageProperties(), redelivered: false,
                         deliveryTag: $0, channel: channel, generation: generation, settler: settler)
        }
    }

    @Test("batches finished out of order are acked in delivery order, each run by one multiple-ack")
    func ackOrder() {
        let settler = Settlements()
        let acks = AckSequencer()
        let (first, second, third) = (acks.register(), acks.register(), acks.register())
        acks.complete(third, settled: Self.deliveries(7...9, settler: settler))
        acks.complete(second, settled: Self.deliveries(4...6, settler: settler))
        #expect(settler.log.isEmpty)  // the first batch is still being processed
        acks.complete(first, settled: Self.deliveries(1...3, settler: settler))
        #expect(settler.log == ["ack* 9@3.1"])
    }

    @Test("while deliveries are held back, or a run spans a reconnect, every ack goes out alone")
    func acksAlone() {
        let settler = Settlements()
        let acks = AckSequencer()
        let held = acks.register()
        acks.complete(held, settled: Self.deliveries(1...1, settler: settler), waiting: 1)
        #expect(settler.log == ["ack 1@3.1"])
        let next = acks.register()
        acks.complete(next, settled: Self.deliveries(3...4, settler: settler))
        #expect(settler.log == ["ack 1@3.1", "ack 3@3.1", "ack 4@3.1"])  // tag 2 waits: a multiple-ack would settle it
        acks.release(Self.deliveries(2...2, settler: settler), count: 1)
        let mixed = acks.register()
        acks.complete(mixed, settled: Self.deliveries(5...5, settler: settler) + Self.deliveries(1...1, generation: 2, settler: settler))
        #expect(settler.log.suffix(3) == ["ack 2@3.1", "ack 5@3.1", "ack 1@3.2"])
        let plain = acks.register()
        acks.complete(plain, settled: Self.deliveries(2...3, generation: 2, settler: settler))
        #expect(settler.log.last == "ack* 3@3.2")
    }

    // MARK: Delivery buffer

    @Test("the buffer hands deliveries over in order, wakes a waiting consumer, and ends with its error after the rest")
    func deliveryBuffer() async throws {
        let settler = Settlements()
        let buffer = DeliveryBuffer()
        let waiter = Task { await buffer.waitForDeliveries() }
        buffer.append(Self.deliveries(1...1, settler: settler)[0])
        await waiter.value
        for delivery in Self.deliveries(2...3, settler: settler) { buffer.append(delivery) }
        #expect(buffer.take(upTo: 2).map(\.deliveryTag) == [1, 2])
        buffer.finish(throwing: AMQPError(.consumerCancelled, "gone"))
        #expect(buffer.termination == nil)  // one delivery is still to be taken
        #expect(buffer.take(upTo: 5).map(\.deliveryTag) == [3])
        let termination = try #require(buffer.termination)
        #expect(termination as? AMQPError == AMQPError(.consumerCancelled, "gone"))
        buffer.append(Self.deliveries(4...4, settler: settler)[0])
        #expect(buffer.take(upTo: 5).isEmpty)  // nothing is taken after the end

        let stopped = DeliveryBuffer()
        for delivery in Self.deliveries(1...3, settler: settler) { stopped.append(delivery) }
        stopped.finish(discardingBuffered: true)
        #expect(stopped.take(upTo: 5).isEmpty)
        let start = ContinuousClock.now
        await DeliveryBuffer().waitForDeliveries(until: start.advanced(by: .milliseconds(50)))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }

    // MARK: Closed state

    @Test("after shutdown a connection refuses work at once: publish, declare and consume fail, a second shutdown returns", .timeLimit(.minutes(1)))
    func closed() async throws {
        // Nothing listens on port 1: the connection never comes up, and shutdown must not wait for it.
        let connection = AMQPConnection(configuration: AMQPConfiguration(host: "127.0.0.1", port: 1, user: "u", password: "p"), logger: .init(label: "test"))
        await connection.shutdown()
        await connection.shutdown()
        await #expect(throws: AMQPError(.shutdown, "the connection is closed")) {
            try await connection.publish(OutgoingMessage(exchange: "x", routingKey: "k", body: []))
        }
        await #expect(throws: AMQPError(.shutdown, "the connection is closed")) {
            try await connection.declare(Topology(queues: [Topology.Queue(name: "q", bindings: [])]))
        }
        await #expect(throws: AMQPError(.shutdown, "the connection is closed")) {
            for try await _ in connection.consume(queue: "q", prefetch: 1) {}
        }
    }
}
