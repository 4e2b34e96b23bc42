import Foundation
import Logging
import PostgresNIO
import Prometheus
import Storage
import Synchronization

/// What this build is: `commlog_build_info{program, version, revision}` = 1, so that a dashboard shows which
/// release each replica runs (the revision comes from `COMMLOG_BUILD_REVISION`, which the image sets).
enum BuildInfo {
    /// The release of this source tree.
    static let version = "2026.12"

    static func register(program: String, registry: PrometheusCollectorRegistry) {
        let revision = ProcessInfo.processInfo.environment["COMMLOG_BUILD_REVISION"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        registry.makeGauge(
            name: "commlog_build_info", labels: [("program", program), ("version", version), ("revision", revision)],
            help: "Which build the program is: always 1."
        ).set(1.0)
    }
}

/// The dead letters waiting for someone (archived, not replayed), by the queue they came from, read from the
/// `dead_letters` table when `/metrics` is scraped: `commlog_dead_letters_waiting{queue}`. The table is shared,
/// so every program reports the same figures (alert on their maximum).
final class DeadLetterBacklog: Sendable {
    let database: Database
    let registry: PrometheusCollectorRegistry
    /// The queues reported so far: one whose dead letters were all replayed goes to 0 rather than vanishing.
    private let queues = Mutex<Set<String>>([])

    init(database: Database, registry: PrometheusCollectorRegistry) {
        self.database = database
        self.registry = registry
    }

    /// Reads the figures now; on a database failure the previous figures stay (readiness says why).
    func update() async {
        var counts: [String: Int] = [:]
        do {
            for try await (queue, count) in try await database.client.query(
                "SELECT queue, count(*)::int FROM dead_letters WHERE replayed_at IS NULL GROUP BY queue", logger: database.logger
            ).decode((String, Int).self) {
                counts[queue] = count
            }
        } catch {
            database.logger.debug("could not count the dead letters", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        let all = queues.withLock { known in
            known.formUnion(counts.keys)
            return known
        }
        for queue in all {
            registry.makeGauge(name: "commlog_dead_letters_waiting", labels: [("queue", queue)], help: "Dead letters archived and not replayed, by the queue they came from.")
                .set(Double(counts[queue] ?? 0))
        }
    }
}
