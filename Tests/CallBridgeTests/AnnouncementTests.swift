import CommlogDomain
import Foundation
import Messaging
import Testing
import TestSupport

/// What call-bridge publishes after commit for live views: `communication.logged` when a call opens (a live view's
/// `call.opened`), `communication.updated` when it changes (`call.updated`).
extension CallBridgeProcesses {
@Suite(.timeLimit(.minutes(3)))
struct CallAnnouncementTests {
    @Test("a call's opening and its changes are announced once each, with the handler")
    func announced() async throws {
        try await TestEnvironment.withConnection(name: "test-call-announcements") { listener in
            let queue = Topology.Queue.transient(name: TestEnvironment.unique("test.call-announcements"), bindings: ["communication.#"], maximumLength: 100_000)
            try await listener.declare(.commlog(queues: [queue]))
            let announcements = listener.consume(queue: queue.name, prefetch: 100)
            try await TestEnvironment.withDatabase { database in
                let bridge = try await CallBridgeHarness()
                let directory = try await Directory.standard(for: bridge, in: database)
                #expect(try await bridge.post(callEvent("ann-1", seq: 1, kind: "ringing", extension: "201", at: 0)).status == 202)
                let opened = try #require(try await directory.waitForCall("ann-1"))
                #expect(try await bridge.post(callEvent("ann-1", seq: 1, kind: "ringing", extension: "201", at: 0)).status == 202)
                #expect(try await bridge.post(callEvent("ann-1", seq: 2, kind: "answered", extension: "201", at: 3)).status == 202)
                _ = try await directory.waitForCall("ann-1") { $0.answeredAt != nil }
                // Other suites' programs announce too: read until ours are in (or time is up), then a little longer for extras.
                var mine: [(EventType, CommunicationChanged)] = []
                // Other suites announce tens of thousands of entries meanwhile: read in large takes, settle each
                // with one multiple-ack, and decode only what names this organisation.
                let deadline = ContinuousClock.now.advanced(by: .seconds(60))
                let marker = Array(bridge.organisationID.utf8)
                var settle = 0
                while ContinuousClock.now < deadline && settle < 2 {
                    if mine.count >= 2 { settle += 1 }
                    let batch = try await announcements.take(5_000, within: .seconds(1))
                    batch.last?.ack(multiple: true)
                    for delivery in batch where delivery.body.firstRange(of: marker) != nil {
                        switch try InboundEvent.decode(delivery.body, routingKey: delivery.routingKey) {
                        case .communicationLogged(let envelope) where envelope.organisationID == bridge.organisationID:
                            mine.append((envelope.type, envelope.data))
                        case .communicationUpdated(let envelope) where envelope.organisationID == bridge.organisationID:
                            mine.append((envelope.type, envelope.data))
                        default:
                            break
                        }
                    }
                }
                await bridge.stop()
                // Opened, then answered; the duplicate ringing changed nothing and is not announced.
                #expect(mine.map(\.0) == [.communicationLogged, .communicationUpdated])
                #expect(mine.allSatisfy { $0.1.communicationID == opened.id && $0.1.type == .phone && $0.1.status == .open })
                #expect(mine.allSatisfy { $0.1.clientID == "c-ann" && $0.1.staffIDs == ["s-201"] })
            }
        }
    }
}
}
