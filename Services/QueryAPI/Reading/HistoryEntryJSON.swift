import Foundation
import OpenAPIRuntime

/// One change of an entry as `GET /v1/communications/{id}/history` writes it: every field, `null` when it
/// does not apply (`before` of a `create`, `staff_id` of the system), as the document requires.
struct HistoryEntryJSON: Codable, Hashable, Sendable {
    var id: Int64
    var action: String
    var staffID: String?
    var at: Date
    var before: OpenAPIObjectContainer?
    var after: OpenAPIObjectContainer?

    enum CodingKeys: String, CodingKey {
        case id, action, at, before, after
        case staffID = "staff_id"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(action, forKey: .action)
        try c.encode(staffID, forKey: .staffID)
        try c.encode(at, forKey: .at)
        try c.encode(before, forKey: .before)
        try c.encode(after, forKey: .after)
    }
}
