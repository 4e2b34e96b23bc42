import CommlogDomain
import CommlogRuntime
import Foundation
import LogStore
import OpenAPIRuntime
import PostgresNIO
import Storage

/// Recordings, attachments and HTML bodies: confidential content whose every read is audited (who, what, when).
extension QueryHandlers {
    /// What an email's HTML may do where it is shown: nothing but lay itself out with its own styles and inline
    /// images (no script, no form, no remote image, style or font: tracking pixels stay unloaded).
    static let htmlSandbox = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; frame-ancestors 'self'"
    /// The same, with images over HTTPS allowed: when the reader asks for the email's remote images.
    static let htmlSandboxRemoteImages = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid: https:; frame-ancestors 'self'"

    func getCommunicationHTML(_ input: Operations.GetCommunicationHTML.Input) async throws -> Operations.GetCommunicationHTML.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let html = try await database.withTenant(caller.organisationID) { connection -> String? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            guard try await queries.entry(id) != nil else { return nil }
            for try await html in try await connection.query("""
                SELECT html FROM contents WHERE organisation_id = \(caller.organisationID) AND communication_id = \(id) AND html IS NOT NULL
                """, logger: logger).decode(String.self) {
                try await queries.audit(id, what: "content", object: nil)
                return html
            }
            return nil
        }
        guard let html else { throw Problem.notFound("no such entry with an HTML body") }
        let policy = input.query.remoteImages == true ? Self.htmlSandboxRemoteImages : Self.htmlSandbox
        return .ok(.init(headers: .init(contentSecurityPolicy: policy, xContentTypeOptions: "nosniff"), body: .html(.init(html))))
    }

    func getRecording(_ input: Operations.GetRecording.Input) async throws -> Operations.GetRecording.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let stored = try await database.withTenant(caller.organisationID) { connection -> (type: String, size: Int)? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            guard let entry = try await queries.entry(id), entry.type == .phone else { return nil }
            let rows = try await connection.query("""
                SELECT coalesce(content_type, 'application/octet-stream'), size FROM recordings
                WHERE organisation_id = \(caller.organisationID) AND communication_id = \(id) AND upload_id IS NOT NULL AND size IS NOT NULL
                """, logger: logger)
            for try await (type, size) in rows.decode((String, Int).self) {
                try await queries.audit(id, what: "recording", object: nil)
                return (type, size)
            }
            return nil
        }
        guard let stored else { throw Problem.notFound("no recording of such a call") }
        let range = ByteRange(input.headers.range, size: stored.size)
        if range == .unsatisfiable {
            return .rangeNotSatisfiable(Self.unsatisfiable(size: stored.size))
        }
        // The chunks (migration 0014) that hold the asked bytes, each cut to its part of them.
        let body = streamed(range: range, size: stored.size, caller: caller, """
            SELECT coalesce(string_agg(
                       substring(k.bytes FROM (greatest($1::bigint, k.position::bigint * r.chunk_size + 1) - k.position::bigint * r.chunk_size)::integer
                                 FOR (least($1::bigint + $2 - 1, (k.position::bigint + 1) * r.chunk_size)
                                      - greatest($1::bigint, k.position::bigint * r.chunk_size + 1) + 1)::integer),
                       ''::bytea ORDER BY k.position), ''::bytea)
            FROM recordings r
            JOIN recording_chunks k ON k.organisation_id = r.organisation_id AND k.upload_id = r.upload_id
            WHERE r.organisation_id = $3 AND r.communication_id = $4::uuid
              AND k.position BETWEEN ($1::bigint - 1) / r.chunk_size AND ($1::bigint + $2 - 2) / r.chunk_size
            """, binds: [caller.organisationID, id.uuidString.lowercased()])
        let disposition = "inline; filename=\"call-\(id.uuidString.lowercased()).\(Self.fileExtension(ofAudio: stored.type))\""
        let content: Operations.GetRecording.Output.Ok.Body = switch stored.type.lowercased() {
        case "audio/mpeg", "audio/mp3": .audioMpeg(body)
        case "audio/wav", "audio/x-wav", "audio/wave": .audioWav(body)
        case "audio/ogg": .audioOgg(body)
        case "audio/mp4", "audio/m4a", "audio/x-m4a": .audioMp4(body)
        case "audio/webm": .audioWebm(body)
        default: .binary(body)
        }
        guard case .part(let part) = range else {
            return .ok(.init(headers: .init(contentDisposition: disposition, acceptRanges: "bytes"), body: content))
        }
        let partial: Operations.GetRecording.Output.PartialContent.Body = switch content {
        case .audioMpeg(let body): .audioMpeg(body)
        case .audioWav(let body): .audioWav(body)
        case .audioOgg(let body): .audioOgg(body)
        case .audioMp4(let body): .audioMp4(body)
        case .audioWebm(let body): .audioWebm(body)
        case .binary(let body): .binary(body)
        }
        return .partialContent(.init(
            headers: .init(contentDisposition: disposition, acceptRanges: "bytes", contentRange: Self.contentRange(part, size: stored.size)),
            body: partial
        ))
    }

    func getAttachment(_ input: Operations.GetAttachment.Input) async throws -> Operations.GetAttachment.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let attachmentID = try Self.uuid(input.path.attachmentId, "attachment_id")
        let stored = try await database.withTenant(caller.organisationID) { connection -> (name: String, size: Int)? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            guard try await queries.entry(id) != nil else { return nil }
            let rows = try await connection.query("""
                SELECT name, octet_length(content) FROM attachments
                WHERE organisation_id = \(caller.organisationID) AND communication_id = \(id) AND id = \(attachmentID) AND content IS NOT NULL
                """, logger: logger)
            for try await (name, size) in rows.decode((String, Int).self) {
                try await queries.audit(id, what: "attachment", object: attachmentID.uuidString.lowercased())
                return (name, size)
            }
            return nil
        }
        guard let stored else { throw Problem.notFound("no such attachment, or its content is kept by the practice software") }
        let range = ByteRange(input.headers.range, size: stored.size)
        if range == .unsatisfiable {
            return .rangeNotSatisfiable(Self.unsatisfiable(size: stored.size))
        }
        let body = streamed(range: range, size: stored.size, caller: caller, """
            SELECT substring(content FROM $1::integer FOR $2::integer) FROM attachments
            WHERE organisation_id = $3 AND communication_id = $4::uuid AND id = $5::uuid
            """, binds: [caller.organisationID, id.uuidString.lowercased(), attachmentID.uuidString.lowercased()])
        let disposition = Self.attachmentDisposition(stored.name)
        guard case .part(let part) = range else {
            return .ok(.init(headers: .init(contentDisposition: disposition, acceptRanges: "bytes"), body: .binary(body)))
        }
        return .partialContent(.init(
            headers: .init(contentDisposition: disposition, acceptRanges: "bytes", contentRange: Self.contentRange(part, size: stored.size)),
            body: .binary(body)
        ))
    }

    /// Bytes read from the database a megabyte at a time as the client takes them, under the caller's
    /// organisation: content of any size is never held whole. `sql` takes the offset (1-based) and the length
    /// as $1 and $2, then `binds` (text) from $3 on.
    private func streamed(range: ByteRange, size: Int, caller: Caller, _ sql: String, binds: [String]) -> HTTPBody {
        let (first, count) = switch range {
        case .part(let part): (part.lowerBound, part.count)
        default: (0, size)
        }
        let chunk = 1024 * 1024
        let (database, logger) = (database, logger)
        var offset = first
        let end = first + count
        let chunks = AsyncThrowingStream<ArraySlice<UInt8>, any Error> {
            guard offset < end else { return nil }
            let length = min(chunk, end - offset)
            var query = PostgresQuery(unsafeSQL: sql)
            query.binds.append(offset + 1)
            query.binds.append(length)
            for value in binds { query.binds.append(value) }
            let bytes: [UInt8]
            do {
                bytes = try await database.withTenant(caller.organisationID) { connection -> [UInt8] in
                    for try await buffer in try await connection.query(query, logger: logger).decode(ByteBuffer.self) { return Array(buffer: buffer) }
                    return []
                }
            } catch {
                logger.error("could not read content while sending it", metadata: ["error": "\(PostgresFailure.describe(error))"])
                throw error
            }
            guard !bytes.isEmpty else { throw ContentGone() }
            offset += bytes.count
            return ArraySlice(bytes)
        }
        return HTTPBody(chunks, length: .known(Int64(count)), iterationBehavior: .single)
    }

    /// The content was deleted while it was being sent: the response ends short.
    private struct ContentGone: Error {}

    static func contentRange(_ part: ClosedRange<Int>, size: Int) -> String {
        "bytes \(part.lowerBound)-\(part.upperBound)/\(size)"
    }

    static func unsatisfiable(size: Int) -> Components.Responses.RangeNotSatisfiable {
        .init(headers: .init(contentRange: "bytes */\(size)"), body: .applicationProblemJson(.init(
            _type: "about:blank", title: "Range Not Satisfiable", status: 416, detail: "the range asked for begins beyond the content's \(size) bytes"
        )))
    }

    /// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback and the exact name.
    static func attachmentDisposition(_ name: String) -> String {
        let fallback = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar.value != 0x7F ? Character(scalar) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }

    static func fileExtension(ofAudio type: String) -> String {
        switch type.lowercased() {
        case "audio/mpeg", "audio/mp3": "mp3"
        case "audio/wav", "audio/x-wav", "audio/wave": "wav"
        case "audio/ogg": "ogg"
        case "audio/mp4", "audio/m4a", "audio/x-m4a": "m4a"
        case "audio/webm": "webm"
        default: "bin"
        }
    }
}

extension EntryQueries {
    /// Records that the caller read confidential content of an entry.
    func audit(_ id: UUID, what: String, object: String?) async throws {
        try await connection.query("""
            INSERT INTO read_audit (organisation_id, staff_id, communication_id, what, object_id)
            VALUES (\(caller.organisationID), \(caller.staffID), \(id), \(what), \(object))
            """, logger: logger)
    }
}
