import Foundation
import Hummingbird
import Logging

/// An `application/problem+json` answer (RFC 9457) with a message that says what is wrong: how every
/// program's HTTP API refuses a request.
public struct Problem: Error, Sendable, Equatable {
    public let status: HTTPResponse.Status
    public let detail: String

    public init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    public static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }
    public static func unauthorized(_ detail: String) -> Problem { Problem(.unauthorized, detail) }
    public static func forbidden(_ detail: String) -> Problem { Problem(.forbidden, detail) }
    public static func conflict(_ detail: String) -> Problem { Problem(.conflict, detail) }
    public static func unprocessable(_ detail: String) -> Problem { Problem(.unprocessableContent, detail) }
    public static func preconditionFailed(_ detail: String) -> Problem { Problem(.preconditionFailed, detail) }
    public static func notFound(_ detail: String = "no such communication") -> Problem { Problem(.notFound, detail) }

    /// A value quoted for a message, shortened when long.
    public static func quoted(_ value: String) -> String {
        "\"\(value.count > 60 ? value.prefix(60) + "…" : Substring(value))\""
    }

    /// The body: `type`, `title`, `status`, `detail`.
    public var json: Data {
        let body: [String: Any] = ["type": "about:blank", "title": status.reasonPhrase, "status": status.code, "detail": detail]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
    }

    /// The content type, and `WWW-Authenticate: Bearer` on a 401.
    public var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return headers
    }

    public var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// Turns every error on its way out into a problem response: a `Problem` as it is, whatever `translate`
/// makes of a program's own errors, an HTTP error of the router (unknown path, wrong method) with its status,
/// and anything else as a logged 500 that says nothing internal.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let translate: @Sendable (any Error, Request, Context) -> Response?

    public init(translate: @escaping @Sendable (any Error, Request, Context) -> Response? = { _, _, _ in nil }) {
        self.translate = translate
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response
        } catch {
            if let response = translate(error, request, context) { return response }
            if let error = error as? any HTTPResponseError {
                let detail = error.status == .notFound
                    ? "no such resource: \(request.uri.path)" : (error as? HTTPError)?.body ?? error.status.reasonPhrase
                return Problem(error.status, detail).response
            }
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return Problem(.internalServerError, "the request could not be completed").response
        }
    }
}
