import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage

/// Closes calls left open longer than the configured time, as the system (audited `auto_close`, no staff).
///
/// Replicas may all run it: a call is closed by whichever update reaches it first, and only once.
struct AutoCloser: Service {
    let database: Database
    let announcer: Announcer
    /// Calls open longer than this (since they started) are closed.
    let after: Duration
    var interval: Duration = .seconds(60)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await closeStale()
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("auto-close failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Closes what is stale now and returns how many calls it closed.
    @discardableResult
    func closeStale(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(after.components.seconds))
        var organisations: [String] = []
        for try await organisation in try await database.client.query(
            "SELECT commlog_organisations_with_open_calls(\(cutoff))", logger: logger
        ).decode(String.self) {
            organisations.append(organisation)
        }
        var closed = 0
        for organisation in organisations {
            let changes = try await database.withTenant(organisation) { connection in
                var changes: [(UUID, String?, [String])] = []
                let rows = try await connection.query("""
                    WITH stale AS (
                        SELECT id, to_jsonb(c) - 'search' AS before FROM communications c
                        WHERE organisation_id = commlog_current_organisation() AND type = 'phone' AND status = 'open'
                          AND deleted_at IS NULL AND occurred_at < \(cutoff)
                        FOR UPDATE SKIP LOCKED
                    ), closed AS (
                        UPDATE communications c SET status = 'closed', closed_at = now(), version = version + 1, updated_at = now()
                        FROM stale WHERE c.organisation_id = commlog_current_organisation() AND c.id = stale.id AND c.status = 'open'
                        RETURNING c.id, c.client_id, to_jsonb(c.*) - 'search' AS after, stale.before
                    ), audited AS (
                        INSERT INTO audit_history (organisation_id, communication_id, staff_id, action, before, after)
                        SELECT commlog_current_organisation(), id, NULL, 'auto_close', before, after FROM closed
                    )
                    SELECT closed.id, closed.client_id,
                        coalesce((SELECT array_agg(p.ref_id ORDER BY p.position) FROM participants p
                                  WHERE p.organisation_id = commlog_current_organisation() AND p.communication_id = closed.id
                                    AND p.kind = 'staff' AND p.ref_id IS NOT NULL), '{}')
                    FROM closed
                    """, logger: logger)
                for try await (id, client, staff) in rows.decode((UUID, String?, [String]).self) {
                    changes.append((id, client, staff))
                }
                return changes
            }
            closed += changes.count
            Counter(label: "commlog_calls_auto_closed_total").increment(by: changes.count)
            announcer.announce(changes.compactMap { id, client, staff in
                try? EventEnvelope(
                    type: .communicationUpdated, organisationID: organisation,
                    data: CommunicationChanged(communicationID: id, type: .phone, status: .closed, clientID: client, staffIDs: staff)
                ).outgoing()
            })
        }
        return closed
    }
}
