import CommlogRuntime
import Foundation
import Hummingbird

/// Checks what the generated layer would otherwise answer vaguely: a body that is too large (413) or not
/// JSON (415), for the operations that take one.
struct RequestBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The largest request body accepted (the document's `ContentTooLarge`).
    static var maximumBodySize: Int { 1 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard KnownRoutes.takesBody(request.method, request.uri.path) else { return try await next(request, context) }
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
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let isJSON = type.hasPrefix("application/json") || (type.hasPrefix("application/") && type.contains("+json"))
        if !isJSON {
            throw Problem(.unsupportedMediaType, "the body must be application/json (got \(type.isEmpty ? "no Content-Type" : Problem.quoted(type)))")
        }
        return try await next(request, context)
    }
}
