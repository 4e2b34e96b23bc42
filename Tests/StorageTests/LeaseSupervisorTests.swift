import Storage
import Synchronization
import Testing
import TestSupport

/// The loop that shares leased work between replicas, without a database: the items, the claims and the work are
/// the test's.
@Suite("Lease supervisor")
struct LeaseSupervisorTests {
    /// What the rounds saw and did.
    final class Record: Sendable {
        let rounds = Mutex(0)
        let started = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        let running = Mutex<Set<String>>([])
    }

    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "database unreachable" }
    }

    @Test("each claimed item runs once at a time; one another replica holds is not run; a failed round is reported and the next goes on; a finished item is taken up again; cancellation ends the work")
    func rounds() async throws {
        let record = Record()
        let supervisor = LeaseSupervisor<String, String>(refresh: .milliseconds(10), id: { $0 })
        let task = Task {
            await supervisor.run {
                let round = record.rounds.withLock { $0 += 1; return $0 }
                if round == 2 { throw Unreachable() }
                return ["mailbox-a", "mailbox-b", "held-elsewhere"]
            } claim: { item in
                item != "held-elsewhere"
            } work: { item in
                let twice = record.running.withLock { !$0.insert(item).inserted }
                record.started.withLock { $0.append(twice ? "\(item) twice" : item) }
                // mailbox-a runs until cancelled; mailbox-b finishes at once and is taken up again next round.
                if item == "mailbox-a" { try? await Task.sleep(for: .seconds(60)) }
                record.running.withLock { _ = $0.remove(item) }
            } failed: { error in
                record.failures.withLock { $0.append("\(error)") }
            }
        }
        try await waitUntil("several rounds", timeout: .seconds(10)) { record.rounds.withLock { $0 } >= 6 }
        task.cancel()
        await task.value

        let started = record.started.withLock { $0 }
        #expect(started.filter { $0 == "mailbox-a" }.count == 1, "a running item is not started again: \(started)")
        #expect(started.filter { $0 == "mailbox-b" }.count >= 2, "a finished item is taken up again: \(started)")
        #expect(!started.contains { $0.hasSuffix("twice") || $0.hasPrefix("held-elsewhere") }, "\(started)")
        #expect(record.failures.withLock { $0 } == ["database unreachable"])
        #expect(record.running.withLock { $0 }.isEmpty, "cancelled work ended")
    }
}
