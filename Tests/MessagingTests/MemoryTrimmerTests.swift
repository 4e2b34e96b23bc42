import CommlogRuntime
import Foundation
import ServiceLifecycle
import Testing
import TestSupport

@Suite("Memory trimmer", .serialized)
struct MemoryTrimmerTests {
    /// The process's anonymous resident memory (heap, stacks), in MB.
    static func anonymousMegabytes() throws -> Double {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
        return try #require(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }) / 1024
    }

    /// 12,000 blocks of 8 KB, each followed by a small one that stays, the large ones freed: a heap full of holes
    /// that the allocator does not give back by itself (only a free top is). At least one whole page of each
    /// hole can be returned: 47 MB. Returns the small blocks, to be freed by the caller.
    static func holes() -> [UnsafeMutableRawPointer] {
        let count = 12_000
        var large: [UnsafeMutableRawPointer] = []
        var small: [UnsafeMutableRawPointer] = []
        large.reserveCapacity(count)
        small.reserveCapacity(count)
        for _ in 0..<count {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 8_192, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 8_192)
            large.append(block)
            small.append(UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16))
        }
        for block in large { block.deallocate() }
        return small
    }

    @Test("memory freed in the middle of the heap, which the allocator keeps, is handed back to the system")
    func freedMemoryReturned() throws {
        let small = Self.holes()
        defer { for block in small { block.deallocate() } }
        let before = try Self.anonymousMegabytes()
        #expect(MemoryTrimmer.trim())
        let after = try Self.anonymousMegabytes()
        // Other tests running meanwhile may allocate some.
        #expect(before - after >= 20, "resident \(before) MB before the trim, \(after) MB after")
    }

    /// Runs `trimmer` until `body` is done, then stops it as SIGTERM does (a graceful shutdown) and returns how
    /// long it took to end.
    static func running(_ trimmer: MemoryTrimmer, _ body: () async throws -> Void) async throws -> Duration {
        let group = ServiceGroup(services: [trimmer], logger: TestEnvironment.logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            let stopping = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.next()
            return ContinuousClock.now - stopping
        }
    }

    @Test("the service trims while it runs")
    func serviceTrims() async throws {
        let small = Self.holes()
        defer { for block in small { block.deallocate() } }
        let before = try Self.anonymousMegabytes()
        _ = try await Self.running(MemoryTrimmer(interval: .milliseconds(50), logger: TestEnvironment.logger)) {
            let returned = await eventually(timeout: .seconds(5)) { ((try? Self.anonymousMegabytes()) ?? before) <= before - 20 }
            #expect(returned, "resident \(before) MB before, \((try? Self.anonymousMegabytes()) ?? 0) MB after 5 s of the service")
        }
    }

    @Test("a graceful shutdown (SIGTERM) ends the service at once, without waiting for the next trim", .timeLimit(.minutes(1)))
    func stopsMidInterval() async throws {
        let took = try await Self.running(MemoryTrimmer(interval: .seconds(3_600), logger: TestEnvironment.logger)) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(took < .seconds(1))
    }
}
