import Auth
import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird

/// Verifies the bearer token of every `/v1/` request and runs the rest of the request as its `Caller`.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: StaffTokenKeys

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthorized("a bearer token is required (Authorization: Bearer <token>)")
        }
        guard header.prefix(7).lowercased() == "bearer ", case let token = header.dropFirst(7).trimmingWhitespace(), !token.isEmpty else {
            throw Problem.unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        let claims: StaffClaims
        do {
            claims = try await keys.verify(token)
        } catch {
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
