import Foundation
import Hummingbird

/// The generated server percent-encodes the values of the headers it writes, which turns the quotes of an
/// ETag (`"3"`) into `%223%22` and spoils a `Content-Disposition`, `Content-Range` or `Content-Security-Policy`; this restores them as
/// RFC 9110 writes them.
/// The generator encodes a value exactly once, so one level of decoding gives back what the handler set.
struct HeaderEncodingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for name in [.eTag, .location, .contentDisposition, .contentRange, .contentSecurityPolicy] as [HTTPFields.Element.Name] {
            if let value = response.headers[name], value.contains("%"), let decoded = value.removingPercentEncoding {
                response.headers[name] = decoded
            }
        }
        return response
    }
}
