import CommlogDomain
import Foundation
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport

/// The log's owner against the real PostgreSQL: every change of an entry, whoever makes it, bumps its version
/// and writes one history row of one shape.
@Suite("LogStore: changes and history")
struct EntryLogTests {
    struct HistoryRow: Sendable {
        let action: String
        let staffID: String?
        let beforeJSON: String?
        let afterJSON: String?
        var before: [String: Any]? { Self.object(beforeJSON) }
        var after: [String: Any]? { Self.object(afterJSON) }
        var keys: Set<String> { Set((after ?? before ?? [:]).keys) }

        static func object(_ text: String?) -> [String: Any]? {
            text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    static func history(of id: UUID, on connection: PostgresConnection) async throws -> [HistoryRow] {
        var rows: [HistoryRow] = []
        for try await (action, staff, before, after) in try await connection.query("""
            SELECT action, staff_id, before::text, after::text FROM audit_history
            WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) ORDER BY id
            """, logger: TestEnvironment.logger).decode((String, String?, String?, String?).self) {
            rows.append(HistoryRow(action: action, staffID: staff, beforeJSON: before, afterJSON: after))
        }
        return rows
    }

    static func version(of id: UUID, on connection: PostgresConnection) async throws -> Int {
        for try await version in try await connection.query(
            "SELECT version FROM communications WHERE organisation_id = commlog_current_organisation() AND id = \(id)", logger: TestEnvironment.logger
        ).decode(Int.self) {
            return version
        }
        return 0
    }

    @Test("a manual entry, a phone call, auto-close and a directory back-fill write history rows of one shape, each with a new version")
    func oneShape() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = TestEnvironment.unique("org-log")
            let logger = TestEnvironment.logger
            let (note, call, waiting) = try await database.withTenant(org) { connection in
                let log = EntryLog(connection: connection, logger: logger)
                var manual = ManualEntry(type: .note, clientID: "c-1", occurredAt: Date().addingTimeInterval(-60))
                manual.subject = "called back"
                let note = try await log.create(manual, author: "s-1")
                var change = EntryChange()
                change.notes = .some("all fine")
                change.related = [RelatedPerson(kind: .staff, id: "s-2")]
                try await log.update(note, change, ifMatch: "\"1\"", by: LogActor(staffID: "s-1", isManager: false))

                let calls = PhoneCallLog(connection: connection, logger: logger)
                let state = PhoneCallState(
                    direction: .inbound, occurredAt: Date().addingTimeInterval(-7_200), answeredAt: nil, endedAt: nil, outcome: nil,
                    durationSeconds: nil, closesAtOnce: false, clientID: nil, address: "+61412345678", ambiguous: false,
                    participants: [Participant(role: .caller, kind: .external, id: nil, address: "+61412345678", name: nil)]
                )
                let opened = try #require(try await calls.apply(state, sourceRef: "generic:\(UUID())"))
                #expect(try await calls.apply(state, sourceRef: "generic:\(UUID())") != nil)  // another call, for the same number
                let closed = try await calls.closeStale(before: Date().addingTimeInterval(-3_600))
                #expect(closed.contains { $0.id == opened.communicationID })
                return (note, opened.communicationID, opened.communicationID)
            }

            // The directory learns the caller's number: the call is linked to the client, as the system.
            try await database.withTenant(org) { connection in
                let linked = try await DirectoryLinks(connection: connection, logger: logger).link(.client, id: "c-9", emails: [], phones: ["+61412345678"])
                #expect(linked.contains(waiting))
                #expect(try await DirectoryLinks(connection: connection, logger: logger).link(.client, id: "c-9", emails: [], phones: ["+61412345678"]).isEmpty)
            }

            try await database.withTenant(org) { connection in
                let noteHistory = try await Self.history(of: note, on: connection)
                let callHistory = try await Self.history(of: call, on: connection)
                #expect(noteHistory.map(\.action) == ["create", "update"])
                #expect(callHistory.map(\.action) == ["create", "auto_close", "relink"])
                #expect(noteHistory.allSatisfy { $0.staffID == "s-1" })
                #expect(callHistory.allSatisfy { $0.staffID == nil })
                let shapes = Set((noteHistory + callHistory).map(\.keys))
                #expect(shapes.count == 1, "\(shapes)")
                let shape = try #require(shapes.first)
                #expect(shape.contains("related") && shape.contains("version") && !shape.contains("content") && !shape.contains("search"))
                // Each row's after is the next row's before, and every change bumped the version.
                for rows in [noteHistory, callHistory] {
                    for (earlier, later) in zip(rows, rows.dropFirst()) {
                        #expect(earlier.after?["version"] as? Int == later.before?["version"] as? Int)
                        #expect((later.after?["version"] as? Int ?? 0) == (later.before?["version"] as? Int ?? 0) + 1)
                    }
                }
                let relink = try #require(callHistory.last)
                #expect(relink.before?["client_id"] is NSNull)
                #expect(relink.after?["client_id"] as? String == "c-9")
                #expect(try await Self.version(of: call, on: connection) == 3)
                #expect((noteHistory.last?.after?["related"] as? [[String: Any]])?.first?["id"] as? String == "s-2")
            }
        }
    }

    @Test("the log's rules refuse in its own terms: stale version, not the author, immutable, invalid")
    func refusals() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = TestEnvironment.unique("org-log")
            try await database.withTenant(org) { connection in
                let log = EntryLog(connection: connection, logger: TestEnvironment.logger)
                let note = try await log.create(ManualEntry(type: .note, clientID: "c-1", occurredAt: Date()), author: "s-1")
                var change = EntryChange()
                change.subject = .some("x")
                await #expect(throws: LogError.staleVersion(current: 1)) {
                    try await log.update(note, change, ifMatch: "\"7\"", by: LogActor(staffID: "s-1", isManager: false))
                }
                await #expect(throws: LogError.notAllowed("only the author of a manual entry or a manager may edit it")) {
                    try await log.update(note, change, ifMatch: "*", by: LogActor(staffID: "s-2", isManager: false))
                }
                var direction = EntryChange()
                direction.direction = .inbound
                await #expect(throws: LogError.invalid(field: "direction", "a note has no direction")) {
                    try await log.update(note, direction, ifMatch: "*", by: LogActor(staffID: "s-1", isManager: false))
                }
                await #expect(throws: LogError.immutable("the entry is not a call (it is of type note)")) {
                    try await log.endCall(note, by: LogActor(staffID: "s-1", isManager: true))
                }
                await #expect(throws: LogError.notFound) {
                    try await log.delete(UUID(), ifMatch: nil, by: LogActor(staffID: "s-1", isManager: true))
                }
                try await log.delete(note, ifMatch: "\"1\"", by: LogActor(staffID: "m-1", isManager: true))
                #expect(try await Self.history(of: note, on: connection).map(\.action) == ["create", "delete"])
            }
        }
    }
}
