import Foundation
import Logging
import ServiceLifecycle

/// Hands the memory the program freed back to the system every `interval`.
///
/// glibc's allocator keeps what was freed for later allocations: after a busy spell (a mailbox's first sync, a
/// backlog of events) a program went on holding its peak, email-ingestor twice its idle size. `malloc_trim`
/// returns every whole free page of the heap; what is in use is not touched, and a page returned is simply
/// faulted in again if it is needed. Where the C library has no `malloc_trim` (not glibc), this does nothing.
public struct MemoryTrimmer: Service {
    /// How often the programs trim (a benchmark that measures idle memory waits this long and a little more).
    public static let defaultInterval: Duration = .seconds(10)

    let interval: Duration
    let logger: Logger

    public init(interval: Duration = defaultInterval, logger: Logger) {
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard Self.trimFunction != nil else {
            logger.debug("no malloc_trim in this C library: freed memory is kept by the allocator")
            return
        }
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            Self.trim()
        }
    }

    /// Returns the heap's free pages to the system now; whether any were returned (false without `malloc_trim`).
    @discardableResult
    public static func trim() -> Bool {
        guard let trimFunction else { return false }
        return trimFunction(0) == 1
    }

    private typealias Trim = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim`, looked up at run time: the C library's module for Swift does not declare it.
    private static let trimFunction: Trim? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()
}
