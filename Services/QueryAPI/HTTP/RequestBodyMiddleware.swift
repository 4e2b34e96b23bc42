import Foundation
import Hummingbird

/// Checks what the generated layer would otherwise answer vaguely: a body that is too large (413), not JSON
/// (415), and an edit without `If-Match` (428).
struct RequestBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The largest request body accepted (the document's `ContentTooLarge`).
    static var maximumBodySize: Int { 1 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .patch || request.method == .put else {
            return try await next(request, context)
        }
        if request.method == .patch, request.headers[.ifMatch] == nil {
            throw Problem(.preconditionRequired, "If-Match is required: send the entry's ETag (from GET) so that a stale edit is refused")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumBodySize {
            throw Problem(.contentTooLarge, "the body is \(length) bytes; at most \(Self.maximumBodySize) are accepted")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumBodySize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, "the body is larger than the \(Self.maximumBodySize) bytes accepted")
        }
        if body.readableBytes > 0 || request.method != .post || request.uri.path.hasPrefix("/v1/communications") {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            let isJSON = type.hasPrefix("application/json") || (type.hasPrefix("application/") && type.contains("+json"))
            if !isJSON && (body.readableBytes > 0 || !request.uri.path.hasPrefix("/v1/calls/")) {
                throw Problem(.unsupportedMediaType, "the body must be application/json (got \(type.isEmpty ? "no Content-Type" : Problem.quoted(type)))")
            }
        }
        return try await next(request, context)
    }
}
