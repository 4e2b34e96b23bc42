import CommlogRuntime
import Hummingbird

/// Turns the router's own errors (an unknown path, a wrong method) into problem responses like the routes' own.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response
        } catch let error as HTTPError {
            return Problem(error.status, error.body ?? "\(request.method) \(request.uri.path): \(error.status.reasonPhrase)").response
        }
    }
}
