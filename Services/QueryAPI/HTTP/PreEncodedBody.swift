import CommlogDomain
import Foundation
import Hummingbird
import NIOCore

/// Pages of entries written as JSON directly, without Foundation's `JSONEncoder`.
///
/// The generated layer encodes every response with `JSONEncoder`, which builds a tree of values before
/// writing it; for a page of 50 entries that was 43% of query-api's CPU under load (the 10-million-entry
/// benchmark). A list page is the hot path, so its JSON is written by `EntryPageWriter` instead: while a
/// request runs, `PreEncodedBodyMiddleware` offers a slot (a task-local), `EntryPageJSON.encode(to:)` writes
/// the page into it and hands the generated layer an empty object, and the middleware puts the written bytes
/// in the response. Outside a request (tests, other encoders) the page encodes through `Codable` as before;
/// `EntryPageWriterTests` checks that both give the same JSON.
enum PreEncodedBody {
    final class Slot: @unchecked Sendable {
        // Written and read by the one task that handles the request.
        var bytes: ByteBuffer?
    }

    @TaskLocal static var slot: Slot?
}

struct PreEncodedBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get, request.uri.path == "/v1/communications" else {
            return try await next(request, context)
        }
        let slot = PreEncodedBody.Slot()
        var response = try await PreEncodedBody.$slot.withValue(slot) { try await next(request, context) }
        if let bytes = slot.bytes, response.status == .ok {
            response.headers[.contentLength] = "\(bytes.readableBytes)"
            response.body = ResponseBody(byteBuffer: bytes)
        }
        return response
    }
}

/// Writes entries as the contract's JSON: every field, `null` when it does not apply.
struct EntryPageWriter {
    private(set) var buffer = ByteBuffer()

    init(capacity: Int = 32_768) {
        buffer.reserveCapacity(capacity)
    }

    /// `{"items": [...], "next_cursor": ...}`.
    static func page(_ items: [EntrySummary], nextCursor: String?) -> ByteBuffer {
        var writer = EntryPageWriter(capacity: 1_024 + items.count * 900)
        writer.raw("{\"items\":[")
        for (index, item) in items.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.entry(item)
        }
        writer.raw("],\"next_cursor\":")
        writer.string(nextCursor)
        writer.raw("}")
        return writer.buffer
    }

    mutating func entry(_ e: EntrySummary) {
        raw("{\"id\":"); string(e.id.uuidString.lowercased())
        raw(",\"type\":"); string(e.type)
        raw(",\"direction\":"); string(e.direction)
        raw(",\"status\":"); string(e.status)
        raw(",\"occurred_at\":"); date(e.occurredAt)
        raw(",\"answered_at\":"); date(e.answeredAt)
        raw(",\"ended_at\":"); date(e.endedAt)
        raw(",\"closed_at\":"); date(e.closedAt)
        raw(",\"outcome\":"); string(e.outcome)
        raw(",\"duration_s\":"); number(e.durationSeconds)
        raw(",\"client_id\":"); string(e.clientID)
        raw(",\"patient_id\":"); string(e.patientID)
        raw(",\"location_id\":"); string(e.locationID)
        raw(",\"author_staff_id\":"); string(e.authorStaffID)
        raw(",\"reason\":"); string(e.reason)
        raw(",\"address\":"); string(e.address)
        raw(",\"subject\":"); string(e.subject)
        raw(",\"description\":"); string(e.description)
        raw(",\"notes\":"); string(e.notes)
        raw(",\"source\":"); string(e.source)
        raw(",\"show_in_patient_history\":"); raw(e.showInPatientHistory ? "true" : "false")
        raw(",\"has_recording\":"); raw(e.hasRecording ? "true" : "false")
        raw(",\"version\":"); number(e.version)
        raw(",\"template\":"); string(e.template)
        raw(",\"reminder_type\":"); string(e.reminderType)
        raw(",\"reminder_count\":"); number(e.reminderCount)
        raw(",\"ambiguous\":"); raw(e.ambiguous ? "true" : "false")
        raw(",\"participants\":[")
        for (index, p) in e.participants.enumerated() {
            if index > 0 { raw(",") }
            raw("{\"role\":"); string(p.role.rawValue)
            raw(",\"kind\":"); string(p.kind.rawValue)
            raw(",\"id\":"); string(p.id)
            raw(",\"address\":"); string(p.address)
            raw(",\"name\":"); string(p.name)
            raw("}")
        }
        raw("]}")
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { _ = buffer.writeBytes($0) }
    }

    mutating func number(_ value: Int?) {
        guard let value else { return raw("null") }
        buffer.writeString(String(value))
    }

    mutating func date(_ value: Date?) {
        guard let value else { return raw("null") }
        string(RFC3339.string(from: value))
    }

    /// A JSON string (RFC 8259): quotes, backslashes and control characters escaped, the rest as UTF-8.
    mutating func string(_ value: String?) {
        guard var value else { return raw("null") }
        buffer.writeInteger(UInt8(ascii: "\""))
        value.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
