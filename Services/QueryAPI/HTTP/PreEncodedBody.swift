import CommlogDomain
import Foundation
import Hummingbird
import LogStore
import NIOCore

/// Pages of entries written as JSON directly, without Foundation's `JSONEncoder`.
///
/// The generated layer encodes every response with `JSONEncoder`, which builds a tree of values before
/// writing it; for a page of 50 entries that was 43% of query-api's CPU under load (the 10-million-entry
/// benchmark). A list page is the hot path, so its JSON is written by `EntryPageWriter` instead: while a
/// request runs, `PreEncodedBodyMiddleware` offers a slot (a task-local), `EntryPageJSON.encode(to:)` writes
/// the page into it and hands the generated layer an empty object, and the middleware puts the written bytes
/// in the response. Outside a request (tests, other encoders) the page encodes through `Codable` as before;
/// `EntryPageWriterTests` checks that both give the same JSON, and `ListJSONTests` that a list item over HTTP
/// is the same JSON as the entry read by id.
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
enum EntryPageWriter {
    /// `{"items": [...], "next_cursor": ...}`.
    static func page(_ items: [EntrySummary], nextCursor: String?) -> ByteBuffer {
        var json = JSONWriter(capacity: 1_024 + items.count * 900)
        json.raw("{\"items\":")
        json.array(items) { json, item in entry(item, to: &json) }
        json.raw(",\"next_cursor\":")
        json.string(nextCursor)
        json.raw("}")
        return ByteBuffer(bytes: json.bytes)
    }

    static func entry(_ e: EntrySummary, to json: inout JSONWriter) {
        json.raw("{\"id\":"); json.uuid(e.id)
        json.raw(",\"type\":"); json.string(e.type.rawValue)
        json.raw(",\"direction\":"); json.string(e.direction?.rawValue)
        json.raw(",\"status\":"); json.string(e.status.rawValue)
        json.raw(",\"occurred_at\":"); json.date(e.occurredAt)
        json.raw(",\"claimed_at\":"); json.date(e.claimedAt)
        json.raw(",\"answered_at\":"); json.date(e.answeredAt)
        json.raw(",\"ended_at\":"); json.date(e.endedAt)
        json.raw(",\"closed_at\":"); json.date(e.closedAt)
        json.raw(",\"outcome\":"); json.string(e.outcome?.rawValue)
        json.raw(",\"duration_s\":"); json.number(e.durationSeconds)
        json.raw(",\"client_id\":"); json.string(e.clientID)
        json.raw(",\"client_name\":"); json.string(e.names.client)
        json.raw(",\"patient_id\":"); json.string(e.patientID)
        json.raw(",\"patient_name\":"); json.string(e.names.patient)
        json.raw(",\"location_id\":"); json.string(e.locationID)
        json.raw(",\"location_name\":"); json.string(e.names.location)
        json.raw(",\"author_staff_id\":"); json.string(e.authorStaffID)
        json.raw(",\"author_name\":"); json.string(e.names.author)
        json.raw(",\"reason\":"); json.string(e.reason)
        json.raw(",\"reason_label\":"); json.string(e.names.reason)
        json.raw(",\"address\":"); json.string(e.address)
        json.raw(",\"subject\":"); json.string(e.subject)
        json.raw(",\"description\":"); json.string(e.description)
        json.raw(",\"notes\":"); json.string(e.notes)
        json.raw(",\"source\":"); json.string(e.source.rawValue)
        json.raw(",\"show_in_patient_history\":"); json.bool(e.showInPatientHistory)
        json.raw(",\"print_in_patient_history\":"); json.bool(e.printInPatientHistory)
        json.raw(",\"has_recording\":"); json.bool(e.hasRecording)
        json.raw(",\"version\":"); json.number(e.version)
        json.raw(",\"template\":"); json.string(e.template)
        json.raw(",\"reminder_type\":"); json.string(e.reminderType)
        json.raw(",\"reminder_count\":"); json.number(e.reminderCount)
        json.raw(",\"ambiguous\":"); json.bool(e.ambiguous)
        json.raw(",\"participants\":"); json.array(e.participants)
        json.raw("}")
    }
}
