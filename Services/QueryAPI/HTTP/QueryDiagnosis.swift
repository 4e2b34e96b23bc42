import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird

/// Names the query parameter the generated layer could not decode (its own errors do not say which),
/// so that a 400 says what to fix.
enum QueryDiagnosis {
    static func problem(in request: Request) -> String? {
        let query = request.uri.queryParameters
        if let limit = query["limit"], Int(limit) == nil {
            return "limit: must be a whole number from 1 to 200 (got \(Problem.quoted(String(limit))))"
        }
        for name in ["from", "to"] {
            if let value = query[Substring(name)], RFC3339.date(from: String(value)) == nil {
                return "\(name): \(RFC3339DateTranscoder.InvalidDate(text: String(value)))"
            }
        }
        let enums: [(String, [String])] = [
            ("type", CommunicationType.allCases.map(\.rawValue)),
            ("direction", Direction.allCases.map(\.rawValue)),
            ("status", CommunicationStatus.allCases.map(\.rawValue)),
        ]
        for (name, allowed) in enums {
            if let value = query[Substring(name)], !allowed.contains(String(value)) {
                return "\(name): must be one of \(allowed.joined(separator: ", ")) (got \(Problem.quoted(String(value))))"
            }
        }
        return nil
    }
}
