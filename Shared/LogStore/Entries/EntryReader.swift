import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// Reads entries back whole (content, participants, attachments) in a transaction of the organisation: what a
/// program that wrote them, or a test, sees of them. Lists and the API's views are query-api's, on the same
/// `StoredEntry` columns.
public struct EntryReader {
    let connection: PostgresConnection
    let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Entries that are not deleted, oldest first (by `occurred_at`, then by when they were logged); those of
    /// one source, or the one of a source's reference, when given.
    public func entries(source: CommunicationSource? = nil, sourceRef: String? = nil) async throws -> [StoredEntry] {
        var entries: [StoredEntry] = []
        let rows = try await connection.query("""
            SELECT \(unescaped: StoredEntry.selectList), c.content FROM communications c
            WHERE c.organisation_id = commlog_current_organisation() AND c.deleted_at IS NULL
              AND (\(source?.rawValue)::text IS NULL OR c.source = \(source?.rawValue))
              AND (\(sourceRef)::text IS NULL OR c.source_ref = \(sourceRef))
            ORDER BY c.occurred_at, c.created_at
            """, logger: logger)
        for try await row in rows {
            let cells = row.makeRandomAccess()
            var entry = try StoredEntry(cells)
            entry.content = try cells[StoredEntry.columns.count].decode(String?.self)
            entries.append(entry)
        }
        for index in entries.indices {
            entries[index].participants = try await participants(of: entries[index].id)
            entries[index].attachments = try await attachments(of: entries[index].id)
        }
        return entries
    }

    /// The entry's participants in their order.
    public func participants(of id: UUID) async throws -> [Participant] {
        var participants: [Participant] = []
        for try await (role, kind, ref, address, name) in try await connection.query("""
            SELECT role, kind, ref_id, address, name FROM participants
            WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) ORDER BY position
            """, logger: logger).decode((String, String, String?, String?, String?).self) {
            guard let role = ParticipantRole(rawValue: role), let kind = ParticipantKind(rawValue: kind) else {
                throw StoredEntry.UnknownValue(column: "participants.role, kind", value: "\(role), \(kind)")
            }
            participants.append(Participant(role: role, kind: kind, id: ref, address: address, name: name))
        }
        return participants
    }

    /// The entry's attachments in their order.
    public func attachments(of id: UUID) async throws -> [StoredAttachment] {
        var attachments: [StoredAttachment] = []
        for try await (attachment, name, contentType, size, owner, document) in try await connection.query("""
            SELECT id, name, content_type, size, document_owner, document_id FROM attachments
            WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id) ORDER BY position
            """, logger: logger).decode((UUID, String, String, Int, String?, String?).self) {
            attachments.append(StoredAttachment(id: attachment, name: name, contentType: contentType, size: size, documentOwner: owner, documentID: document))
        }
        return attachments
    }

    /// The recording's checksum and size, once it is stored.
    public func recording(of id: UUID) async throws -> (sha256: String?, size: Int64?)? {
        for try await row in try await connection.query("""
            SELECT sha256, size FROM recordings WHERE organisation_id = commlog_current_organisation() AND communication_id = \(id)
            """, logger: logger).decode((String?, Int64?).self) {
            return row
        }
        return nil
    }
}
