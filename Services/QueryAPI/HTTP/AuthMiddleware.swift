import Auth
import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird

/// Runs every request as its `Caller`: the staff member of the bearer token (`Authorization: Bearer <JWT>`)
/// or, from a browser, of the web page's session cookie (`WebSession`), which holds the same token.
///
/// `/v1/` requires one of them (401 otherwise); a screen of the web page without a valid session shows the
/// page that explains how to open Commlog (the page itself decides). A write authenticated by the cookie
/// must come from the page's own origin (`WebSession.isSameOrigin`): a browser sends the cookie with a
/// cross-site form too, and SameSite alone does not cover sites under the same registrable domain.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: StaffTokenKeys

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isAPI = request.uri.path.hasPrefix("/v1/")
        let token: Substring
        if let header = request.headers[.authorization] {
            guard header.prefix(7).lowercased() == "bearer ", case let bearer = header.dropFirst(7).trimmingWhitespace(), !bearer.isEmpty else {
                throw Problem.unauthorized("the Authorization header must be \"Bearer <token>\"")
            }
            token = Substring(bearer)
        } else if let cookie = WebSession.token(in: request) {
            guard request.method.isSafe || WebSession.isSameOrigin(request) else {
                throw Problem.forbidden("a change made with the page's session must come from the page itself (Origin does not match)")
            }
            token = Substring(cookie)
        } else {
            guard !isAPI else { throw Problem.unauthorized("a bearer token is required (Authorization: Bearer <token>)") }
            return try await next(request, context)
        }
        let claims: StaffClaims
        do {
            claims = try await keys.verify(String(token))
        } catch {
            // An expired or foreign session on a screen is the same as none: the page asks to open Commlog again.
            guard isAPI || request.headers[.authorization] != nil else { return try await next(request, context) }
            throw Problem.unauthorized("the token is not valid: \(Self.reason(error))")
        }
        let caller = Caller(staffID: claims.staffID, organisationID: claims.org, roles: Set(claims.roles), expiresAt: claims.expiresAt)
        return try await Caller.$current.withValue(caller) {
            try await next(request, context)
        }
    }

    /// Why a token was refused, without echoing the token.
    static func reason(_ error: any Error) -> String {
        if let refusal = error as? StaffTokenRefusal { return refusal.message }
        if let configuration = error as? TokenConfigurationError { return configuration.message }
        return "it is malformed or not signed for this service"
    }
}

extension HTTPRequest.Method {
    /// GET, HEAD and OPTIONS change nothing (RFC 9110 §9.2.1).
    var isSafe: Bool { self == .get || self == .head || self == .options }
}
