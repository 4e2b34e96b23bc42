import CommlogRuntime
import Foundation
import Testing

@Suite("Memory trimmer")
struct MemoryTrimmerTests {
    /// The process's anonymous resident memory (heap, stacks), in MB.
    static func anonymousMegabytes() throws -> Double {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
        return try #require(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }) / 1024
    }

    @Test("memory freed in the middle of the heap, which the allocator keeps, is handed back to the system")
    func freedMemoryReturned() throws {
        // 12,000 blocks of 8 KB, each followed by a small one that stays: once the large ones are freed, the
        // heap is full of holes that the allocator does not give back by itself (only a free top is).
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
        defer { for block in small { block.deallocate() } }
        for block in large { block.deallocate() }
        let before = try Self.anonymousMegabytes()
        #expect(MemoryTrimmer.trim())
        let after = try Self.anonymousMegabytes()
        // At least one whole page of each hole: 47 MB; other tests running meanwhile may allocate some.
        #expect(before - after >= 20, "resident \(before) MB before the trim, \(after) MB after")
    }
}
