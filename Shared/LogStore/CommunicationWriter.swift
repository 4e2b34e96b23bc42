import CommlogDomain
import Foundation
import Logging
import PostgresNIO

/// A communication that a writer has just inserted (not one it found already there).
public struct LoggedCommunication: Sendable, Hashable {
    public let id: UUID
    public let entry: NewCommunication

    /// Staff involved: the author and every participant matched to staff (for live updates).
    public var staffIDs: [String] {
        var ids = entry.participants.filter { $0.kind == .staff }.compactMap(\.id)
        if let author = entry.authorStaffID { ids.insert(author, at: 0) }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The `communication.logged` event that tells live views about the new entry.
    public func announcement() throws -> EventEnvelope<CommunicationChanged> {
        try EventEnvelope(
            type: .communicationLogged,
            organisationID: entry.organisationID,
            data: CommunicationChanged(communicationID: id, type: entry.type, status: entry.status, clientID: entry.clientID, staffIDs: staffIDs)
        )
    }
}

/// Inserts communications with their participants and attachments, idempotently on `(source, source_ref)`.
///
/// One statement per call, whatever the number of entries: the entries travel as one JSON parameter,
/// `jsonb_to_recordset` turns them into rows, and data-modifying CTEs insert the entries, then the
/// participants and attachments of those that were new. Entries already logged are left as they are.
/// Attachments' bytes travel apart, as one binary `bytea[]` parameter that the JSON points into: in the JSON
/// they would be base64, parsed into `jsonb`, extracted and decoded again by the server.
public enum CommunicationWriter {
    /// Inserts `entries`, all of the transaction's organisation, and returns those that were new, in order.
    public static func insert(_ entries: [NewCommunication], on connection: PostgresConnection, logger: Logger) async throws -> [LoggedCommunication] {
        // The same event twice in one batch: keep the first (a second row would clash within the statement).
        var seen = Set<String>()
        let unique = entries.filter { seen.insert("\($0.source.rawValue)\u{0}\($0.sourceRef)").inserted }
        guard !unique.isEmpty else { return [] }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: insertSQL, binds: binds(rows(unique))), logger: logger)
        var inserted: [String: UUID] = [:]
        for try await (id, source, sourceRef) in rows.decode((UUID, String, String).self) {
            inserted["\(source)\u{0}\(sourceRef)"] = id
        }
        return unique.compactMap { entry in
            inserted["\(entry.source.rawValue)\u{0}\(entry.sourceRef)"].map { LoggedCommunication(id: $0, entry: entry) }
        }
    }

    /// Keeps the raw form and the HTML body of new entries (`contents`), once: a second call for an entry
    /// changes nothing. An entry with neither keeps no row.
    public static func keepContents(_ contents: [(communicationID: UUID, raw: [UInt8]?, html: String?)], on connection: PostgresConnection, logger: Logger) async throws {
        let contents = contents.filter { $0.raw != nil || !($0.html ?? "").isEmpty }
        guard !contents.isEmpty else { return }
        try await connection.query("""
            INSERT INTO contents (organisation_id, communication_id, raw, html)
            SELECT commlog_current_organisation(), id, nullif(raw, ''::bytea), nullif(html, '')
            FROM unnest(\(contents.map(\.communicationID))::uuid[], \(contents.map { ByteBuffer(bytes: $0.raw ?? []) })::bytea[],
                        \(contents.map { $0.html ?? "" })::text[]) AS t(id, raw, html)
            ON CONFLICT (organisation_id, communication_id) DO NOTHING
            """, logger: logger)
    }

    /// The entries as the JSON array `insertSQL` reads with `jsonb_to_recordset`, and the attachments' bytes.
    /// The JSON has every key of `NewCommunication.encode(to:)`, written directly (through `JSONEncoder` this was
    /// a third of reminder-logger's CPU), except that an attachment's `content` is `content_index` instead: the
    /// position (from 1) of its bytes in `contents`.
    static func rows(_ entries: [NewCommunication]) -> (json: String, contents: [ByteBuffer]) {
        var json = JSONWriter(capacity: entries.count * 1_024)
        var contents: [ByteBuffer] = []
        json.array(entries) { json, entry in entry.write(to: &json, contents: &contents) }
        return (String(decoding: json.bytes, as: UTF8.self), contents)
    }

    private static func binds(_ rows: (json: String, contents: [ByteBuffer])) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(rows.json)
        bindings.append(rows.contents)
        return bindings
    }

    private static let columns = """
        type, direction, status, occurred_at, answered_at, ended_at, closed_at, client_id, patient_id, location_id,
        author_staff_id, reason, address, subject, description, notes, content, source, source_ref, template,
        reminder_type, reminder_count, show_in_patient_history, message_id
        """

    private static let insertSQL = """
        WITH input AS (
            SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
                type text, direction text, status text, occurred_at timestamptz, answered_at timestamptz,
                ended_at timestamptz, closed_at timestamptz, client_id text, patient_id text, location_id text,
                author_staff_id text, reason text, address text, subject text, description text, notes text,
                content text, source text, source_ref text, template text, reminder_type text, reminder_count integer,
                show_in_patient_history boolean, participants jsonb, attachments jsonb, message_id text)
        ), inserted AS (
            INSERT INTO communications (organisation_id, \(columns))
            SELECT commlog_current_organisation(), \(columns) FROM input
            ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
            RETURNING id, source, source_ref, occurred_at
        ), new_participants AS (
            INSERT INTO participants (organisation_id, communication_id, position, role, kind, ref_id, address, name, occurred_at)
            SELECT commlog_current_organisation(), i.id, p.position - 1, p.value->>'role', p.value->>'kind', p.value->>'id',
                   p.value->>'address', p.value->>'name', i.occurred_at
            FROM inserted i
            JOIN input USING (source, source_ref)
            CROSS JOIN LATERAL jsonb_array_elements(input.participants) WITH ORDINALITY AS p(value, position)
        ), new_attachments AS (
            INSERT INTO attachments (organisation_id, communication_id, position, name, content_type, size, sha256, content, document_owner, document_id)
            SELECT commlog_current_organisation(), i.id, a.position - 1, a.value->>'name', a.value->>'content_type',
                   (a.value->>'size')::bigint, a.value->>'sha256', ($2::bytea[])[(a.value->>'content_index')::int],
                   a.value->>'document_owner', a.value->>'document_id'
            FROM inserted i
            JOIN input USING (source, source_ref)
            CROSS JOIN LATERAL jsonb_array_elements(input.attachments) WITH ORDINALITY AS a(value, position)
        )
        SELECT id, source, source_ref FROM inserted
        """
}

extension NewCommunication {
    /// The entry as `encode(to:)` writes it, keys in its order, but for its attachments' bytes: appended to
    /// `contents`, and their position there written as `content_index`.
    func write(to json: inout JSONWriter, contents: inout [ByteBuffer]) {
        json.raw("{\"organisation_id\":"); json.string(organisationID)
        json.raw(",\"type\":"); json.string(type)
        json.raw(",\"direction\":"); json.string(direction)
        json.raw(",\"status\":"); json.string(status)
        json.raw(",\"occurred_at\":"); json.date(occurredAt)
        json.raw(",\"answered_at\":"); json.date(answeredAt)
        json.raw(",\"ended_at\":"); json.date(endedAt)
        json.raw(",\"closed_at\":"); json.date(closedAt)
        json.raw(",\"client_id\":"); json.string(clientID)
        json.raw(",\"patient_id\":"); json.string(patientID)
        json.raw(",\"location_id\":"); json.string(locationID)
        json.raw(",\"author_staff_id\":"); json.string(authorStaffID)
        json.raw(",\"reason\":"); json.string(reason)
        json.raw(",\"address\":"); json.string(address)
        json.raw(",\"subject\":"); json.string(subject)
        json.raw(",\"description\":"); json.string(description)
        json.raw(",\"notes\":"); json.string(notes)
        json.raw(",\"content\":"); json.string(content)
        json.raw(",\"source\":"); json.string(source)
        json.raw(",\"source_ref\":"); json.string(sourceRef)
        json.raw(",\"template\":"); json.string(template)
        json.raw(",\"reminder_type\":"); json.string(reminderType)
        json.raw(",\"reminder_count\":"); json.number(reminderCount)
        json.raw(",\"show_in_patient_history\":"); json.bool(showInPatientHistory)
        json.raw(",\"participants\":"); json.array(participants)
        json.raw(",\"attachments\":")
        json.array(attachments) { json, attachment in
            json.raw("{\"name\":"); json.string(attachment.name)
            json.raw(",\"content_type\":"); json.string(attachment.contentType)
            json.raw(",\"size\":"); json.number(attachment.size)
            json.raw(",\"sha256\":"); json.string(attachment.sha256)
            json.raw(",\"content_index\":")
            if let content = attachment.content {
                contents.append(ByteBuffer(bytes: content))
                json.number(contents.count)
            } else {
                json.raw("null")
            }
            json.raw(",\"document_owner\":"); json.string(attachment.documentOwner)
            json.raw(",\"document_id\":"); json.string(attachment.documentID)
            json.raw("}")
        }
        json.raw(",\"message_id\":"); json.string(messageID)
        json.raw("}")
    }
}
