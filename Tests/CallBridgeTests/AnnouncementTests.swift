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
                let mine = try await announcements.announcements(of: bridge.organisationID) { $0.count >= 2 }
                await bridge.stop()
                // Opened, then answered; the duplicate ringing changed nothing and is not announced.
                #expect(mine.map(\.type) == [.communicationLogged, .communicationUpdated])
                #expect(mine.allSatisfy { $0.data.communicationID == opened.id && $0.data.type == .phone && $0.data.status == .open })
                #expect(mine.allSatisfy { $0.data.clientID == "c-ann" && $0.data.staffIDs == ["s-201"] })
            }
        }
    }
}
}
