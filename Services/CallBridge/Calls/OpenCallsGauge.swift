import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage

/// `commlog_organisations_with_calls_open_over_hours`: how many organisations have a call open for more than
/// `hours` (staff did not end it), read every `interval`, for the alert of that name
/// (deploy/prometheus/alerts.yml). Every replica may run it: each reports the same figure.
struct OpenCallsGauge: Service {
    let database: Database
    var hours = 4
    var interval: Duration = .seconds(60)
    let logger: Logger

    func run() async throws {
        let gauge = Gauge(label: "commlog_organisations_with_calls_open_over_hours")
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    gauge.record(try await count())
                } catch {
                    if Task.isCancelled { return }
                    logger.debug("could not count the calls open for hours", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Organisations with a call that started more than `hours` ago and is still open.
    func count(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(hours) * 3600)
        for try await count in try await database.client.query(
            "SELECT count(*)::int FROM commlog_organisations_with_open_calls(\(cutoff))", logger: logger
        ).decode(Int.self) {
            return count
        }
        return 0
    }
}
