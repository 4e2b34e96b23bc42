import Foundation
import OpenAPIRuntime
import PostgresNIO

extension EntryQueries {
    /// Whether the entry exists and was deleted (managers still read its history).
    func existsDeleted(_ id: UUID) async throws -> Bool {
        let rows = try await connection.query("""
            SELECT 1 FROM communications WHERE organisation_id = \(caller.organisationID) AND id = \(id) AND deleted_at IS NOT NULL
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Every change of the entry, oldest first.
    func history(of id: UUID) async throws -> [HistoryEntryJSON] {
        let rows = try await connection.query("""
            SELECT id, action, staff_id, at, before::text, after::text FROM audit_history
            WHERE organisation_id = \(caller.organisationID) AND communication_id = \(id) ORDER BY id
            """, logger: logger)
        let decoder = JSONDecoder()
        var items: [HistoryEntryJSON] = []
        for try await (number, action, staff, at, before, after) in rows.decode((Int64, String, String?, Date, String?, String?).self) {
            items.append(.init(
                id: number, action: action, staffID: staff, at: at,
                before: try before.map { try decoder.decode(OpenAPIObjectContainer.self, from: Data($0.utf8)) },
                after: try after.map { try decoder.decode(OpenAPIObjectContainer.self, from: Data($0.utf8)) }
            ))
        }
        return items
    }
}
