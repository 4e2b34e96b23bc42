import Foundation
import Hummingbird

/// The generated server percent-encodes header values, which turns the quotes of an ETag (`"3"`) into
/// `%223%22`; this restores the header as RFC 9110 writes it.
struct ETagMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let etag = response.headers[.eTag], etag.contains("%"), let decoded = etag.removingPercentEncoding {
            response.headers[.eTag] = decoded
        }
        return response
    }
}
