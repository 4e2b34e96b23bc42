import CommlogRuntime
import Foundation
import OpenAPIRuntime
import PostgresNIO
import Storage

/// Recordings and attachments: confidential content whose every read is audited (who, what, when).
extension QueryHandlers {
    func getRecording(_ input: Operations.GetRecording.Input) async throws -> Operations.GetRecording.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let recording = try await database.withTenant(caller.organisationID) { connection -> (String, [UInt8])? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            guard let entry = try await queries.entry(id), entry.type == "phone" else { return nil }
            let rows = try await connection.query("""
                SELECT coalesce(content_type, 'application/octet-stream'), content FROM recordings
                WHERE organisation_id = \(caller.organisationID) AND communication_id = \(id) AND content IS NOT NULL
                """, logger: logger)
            for try await (type, content) in rows.decode((String, ByteBuffer).self) {
                try await queries.audit(id, what: "recording", object: nil)
                return (type, Array(buffer: content))
            }
            return nil
        }
        guard let (type, bytes) = recording else { throw Problem.notFound("no recording of such a call") }
        let body = HTTPBody(bytes)
        let headers = Operations.GetRecording.Output.Ok.Headers(
            contentDisposition: "inline; filename=\"call-\(id.uuidString.lowercased()).\(Self.fileExtension(ofAudio: type))\""
        )
        let content: Operations.GetRecording.Output.Ok.Body = switch type.lowercased() {
        case "audio/mpeg", "audio/mp3": .audioMpeg(body)
        case "audio/wav", "audio/x-wav", "audio/wave": .audioWav(body)
        case "audio/ogg": .audioOgg(body)
        case "audio/mp4", "audio/m4a", "audio/x-m4a": .audioMp4(body)
        case "audio/webm": .audioWebm(body)
        default: .binary(body)
        }
        return .ok(.init(headers: headers, body: content))
    }

    func getAttachment(_ input: Operations.GetAttachment.Input) async throws -> Operations.GetAttachment.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let attachmentID = try Self.uuid(input.path.attachmentId, "attachment_id")
        let attachment = try await database.withTenant(caller.organisationID) { connection -> (String, [UInt8])? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            guard try await queries.entry(id) != nil else { return nil }
            let rows = try await connection.query("""
                SELECT name, content FROM attachments
                WHERE organisation_id = \(caller.organisationID) AND communication_id = \(id) AND id = \(attachmentID) AND content IS NOT NULL
                """, logger: logger)
            for try await (name, content) in rows.decode((String, ByteBuffer).self) {
                try await queries.audit(id, what: "attachment", object: attachmentID.uuidString.lowercased())
                return (name, Array(buffer: content))
            }
            return nil
        }
        guard let (name, bytes) = attachment else { throw Problem.notFound("no such attachment, or its content is kept by the practice software") }
        return .ok(.init(headers: .init(contentDisposition: Self.attachmentDisposition(name)), body: .binary(HTTPBody(bytes))))
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
