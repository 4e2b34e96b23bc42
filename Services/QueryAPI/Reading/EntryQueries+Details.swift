import Foundation
import LogStore
import PostgresNIO

extension EntryQueries {
    /// Everything kept of a visible entry; reading its content is itself recorded in `read_audit` (unless the
    /// entry is only being echoed back to the staff member who just wrote it).
    func details(of summary: EntrySummary, auditing: Bool = true) async throws -> EntryJSON {
        let organisation = caller.organisationID
        var content: String?
        for try await value in try await connection.query(
            "SELECT content FROM communications WHERE organisation_id = \(organisation) AND id = \(summary.id)", logger: logger
        ).decode(String?.self) {
            content = value
        }
        var attachments: [EntryJSON.Attachment] = []
        let attachmentRows = try await connection.query("""
            SELECT id, name, content_type, size, sha256, document_owner, document_id, content IS NOT NULL
            FROM attachments WHERE organisation_id = \(organisation) AND communication_id = \(summary.id) ORDER BY position
            """, logger: logger)
        for try await (id, name, type, size, sha, owner, document, hasContent)
            in attachmentRows.decode((UUID, String, String, Int, String?, String?, String?, Bool).self) {
            attachments.append(.init(id: id, name: name, contentType: type, size: size, sha256: sha, documentOwner: owner, documentID: document, hasContent: hasContent))
        }
        var recording: EntryJSON.Recording?
        let recordingRows = try await connection.query("""
            SELECT content_type, size, sha256 FROM recordings
            WHERE organisation_id = \(organisation) AND communication_id = \(summary.id) AND upload_id IS NOT NULL
            """, logger: logger)
        for try await (type, size, sha) in recordingRows.decode((String?, Int?, String?).self) {
            recording = .init(contentType: type ?? "application/octet-stream", size: size ?? 0, sha256: sha ?? "")
        }
        if content != nil && auditing {
            try await connection.query("""
                INSERT INTO read_audit (organisation_id, staff_id, communication_id, what)
                VALUES (\(organisation), \(caller.staffID), \(summary.id), 'content')
                """, logger: logger)
        }
        return EntryJSON(summary: summary, content: content, attachments: attachments, recording: recording)
    }
}
