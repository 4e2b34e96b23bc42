import CommlogDomain
import LogStore
import Messaging
import Testing
import TestSupport

@Suite("reminder-logger: communication.logged")
struct AnnouncementTests {
    @Test("communication.logged is published after commit for each new entry, once, with the staff involved")
    func logged() async throws {
        try await TestEnvironment.withConnection(name: "test-announcements") { listener in
            let queue = Topology.Queue.transient(name: TestEnvironment.unique("test.announcements"), bindings: ["communication.logged"], maximumLength: 100_000)
            try await listener.declare(.commlog(queues: [queue]))
            let announcements = listener.consume(queue: queue.name, prefetch: 100)
            try await PracticeHarness.run { harness in
                try await harness.publish(.staffUpserted, StaffUpserted(staffID: "s-7", name: "Dr Who", email: "who@clinic.example", roles: [.staff]))
                let id = TestEnvironment.unique("announced")
                for _ in 0..<3 {
                    try await harness.publish(.emailSent, EmailSent(authorStaffID: "s-1", clientID: "c-1", from: "who@clinic.example", to: ["ann@example.org"], subject: "Hi", bodyText: "x"), id: id)
                }
                let entry = try #require(try await harness.entries(count: 1).first)

                let mine = try await announcements.announcements(of: harness.organisationID) { !$0.isEmpty }
                #expect(mine.count == 1)
                let data = try #require(mine.first?.data)
                #expect(data.communicationID == entry.id)
                #expect(data.type == .email)
                #expect(data.status == .closed)
                #expect(data.clientID == "c-1")
                #expect(data.staffIDs == ["s-1", "s-7"])
            }
        }
    }
}
