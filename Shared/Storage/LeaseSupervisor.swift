import Synchronization

/// The loop that shares leased work between replicas (a mailbox's poller, a PBX's SMDR connection): every round it
/// reads the items there are, claims the lease of each this replica does not run yet, and runs the item's work in a
/// task of its own until that work returns (its lease lost, the item gone) or the loop is cancelled.
///
/// A dead replica's leases expire, and another replica's next round takes its items over.
public struct LeaseSupervisor<Item: Sendable, ID: Hashable & Sendable>: Sendable {
    /// How often the items are read again (new ones, disabled ones, expired leases).
    public var refresh: Duration
    let id: @Sendable (Item) -> ID

    public init(refresh: Duration, id: @escaping @Sendable (Item) -> ID) {
        self.refresh = refresh
        self.id = id
    }

    /// Runs until the task is cancelled.
    /// - Parameters:
    ///   - items: the items there are, read every round.
    ///   - claim: takes the item's lease for this replica; false when another holds it.
    ///   - work: the item's work, run while this replica holds it.
    ///   - failed: a round that could not read the items or claim a lease (tried again next round).
    ///   - afterRound: what to do after every round.
    public func run(
        items: @Sendable () async throws -> [Item],
        claim: @Sendable (Item) async throws -> Bool,
        work: @escaping @Sendable (Item) async -> Void,
        failed: @Sendable (any Error) -> Void,
        afterRound: @Sendable () -> Void = {}
    ) async {
        let running = Running()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                do {
                    for item in try await items() where !running.contains(id(item)) {
                        guard try await claim(item) else { continue }
                        let key = id(item)
                        running.insert(key)
                        group.addTask {
                            await work(item)
                            running.remove(key)
                        }
                    }
                } catch where !Task.isCancelled {
                    failed(error)
                } catch {
                    break
                }
                afterRound()
                try? await Task.sleep(for: refresh)
            }
            group.cancelAll()
        }
    }

    /// The items this replica runs.
    private final class Running: Sendable {
        private let ids = Mutex<Set<ID>>([])
        func contains(_ id: ID) -> Bool { ids.withLock { $0.contains(id) } }
        func insert(_ id: ID) { _ = ids.withLock { $0.insert(id) } }
        func remove(_ id: ID) { _ = ids.withLock { $0.remove(id) } }
    }
}
