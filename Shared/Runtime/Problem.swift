import Foundation
import Hummingbird

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
