import Synchronization

/// Bytes that downloads may hold in memory at once: a download waits until its largest possible size fits.
final class ByteBudget: Sendable {
    private let state: Mutex<(available: Int, waiters: [(bytes: Int, continuation: CheckedContinuation<Void, Never>)])>
    let total: Int

    init(bytes: Int) {
        total = bytes
        state = Mutex((bytes, []))
    }

    /// Runs `body` with `bytes` (at most the whole budget) set aside for it.
    func spending<Result>(_ bytes: Int, _ body: () async throws -> Result) async throws -> Result {
        let bytes = min(bytes, total)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.waiters.isEmpty && state.available >= bytes {
                    state.available -= bytes
                    return true
                }
                state.waiters.append((bytes, continuation))
                return false
            }
            if now { continuation.resume() }
        }
        defer { give(bytes) }
        return try await body()
    }

    private func give(_ bytes: Int) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.available += bytes
            var ready: [CheckedContinuation<Void, Never>] = []
            while let first = state.waiters.first, first.bytes <= state.available {
                state.available -= first.bytes
                ready.append(first.continuation)
                state.waiters.removeFirst()
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}
