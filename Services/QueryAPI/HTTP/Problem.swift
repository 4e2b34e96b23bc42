import CommlogRuntime
import Foundation
import Hummingbird
import LogStore
import Logging
import OpenAPIRuntime

/// Lets handlers throw a `Problem`: the generated server turns it into the response directly.
extension Problem: HTTPResponseConvertible {
    public var httpStatus: HTTPResponse.Status { status }
    public var httpHeaderFields: HTTPFields { headers }
    public var httpBody: HTTPBody? { HTTPBody(json) }
}

/// query-api's errors as problem responses, for the shared `ProblemMiddleware`: what the generated layer
/// could not decode is a 4xx that says what was wrong, and a path that exists answers 405 (with `Allow`) to a
/// method it does not take.
enum QueryAPIProblems {
    static func translate<Context: RequestContext>(_ error: any Error, _ request: Request, _ context: Context) -> Response? {
        if let error = error as? ServerError {
            // A handler's Problem, or input the generated layer could not decode (a 4xx, said plainly).
            if let problem = error.underlyingError as? Problem { return problem.response }
            if let refusal = error.underlyingError as? LogError { return Problem(refusal).response }
            if let diagnosis = QueryDiagnosis.problem(in: request) { return Problem(.badRequest, diagnosis).response }
            if let invalid = error.underlyingError as? RFC3339DateTranscoder.InvalidDate {
                return Problem(.badRequest, "a date-time in the request: \(invalid)").response
            }
            if let decoding = error.underlyingError as? DecodingError {
                return Problem(.badRequest, describe(decoding)).response
            }
            if (400..<500).contains(error.httpStatus.code) {
                return Problem(error.httpStatus, describe(error)).response
            }
            // Only the cause: the ServerError's own description repeats the request, bearer token included.
            context.logger.error("request failed", metadata: [
                "error": "\(String(reflecting: error.underlyingError))", "operation": "\(error.operationID)", "path": "\(request.uri.path)",
            ])
            return Problem(.internalServerError, "the request could not be completed").response
        }
        if let error = error as? any HTTPResponseError, error.status == .notFound,
           let allowed = KnownRoutes.methods(for: request.uri.path), !allowed.contains(request.method) {
            let methods = allowed.map(\.rawValue)
            var response = Problem(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path); use \(methods.joined(separator: " or "))").response
            response.headers[.allow] = methods.joined(separator: ", ")
            return response
        }
        return nil
    }

    /// What was wrong with a JSON body, naming the field.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context, key)): is required"
        case .valueNotFound(_, let context): return "\(path(context)): must not be null"
        case .typeMismatch(let type, let context): return "\(path(context)): must be \(type == String.self ? "a string" : "\(type)")"
        case .dataCorrupted(let context):
            let at = path(context)
            return at.isEmpty ? "the body is not valid JSON" : "\(at): \(context.debugDescription)"
        @unknown default: return "the body could not be read: \(error)"
        }
    }

    /// What was wrong with the request, from the generated layer's decoding error.
    static func describe(_ error: ServerError) -> String {
        let underlying = "\(error.underlyingError)"
        if let range = underlying.range(of: "codingPath"), underlying.count < 400 { return "the request is invalid: \(underlying[..<range.lowerBound])" }
        return "the request is invalid: \(error.causeDescription)"
    }
}

extension Problem {
    /// The log's refusal as the answer to the request that asked for the change.
    init(_ refusal: LogError) {
        switch refusal {
        case .notFound: self = .notFound()
        case .staleVersion: self.init(.preconditionFailed, refusal.description)
        case .notAllowed: self.init(.forbidden, refusal.description)
        case .immutable: self.init(.conflict, refusal.description)
        case .invalid: self.init(.unprocessableContent, refusal.description)
        }
    }
}
