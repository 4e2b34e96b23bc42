import CommlogDomain
import CommlogRuntime
import Foundation

/// A staff member, client or connection an entry is related to.
struct RelatedPerson: Hashable, Sendable {
    let kind: ParticipantKind
    let id: String
}

/// A manual entry to create, validated against the document's limits.
struct ManualEntry: Sendable {
    let type: CommunicationType
    let clientID: String
    var patientID: String?
    var locationID: String?
    var direction: Direction?
    var occurredAt: Date
    var reason: String?
    var address: String?
    var subject: String?
    var description: String?
    var notes: String?

    init(_ body: Components.Schemas.NewManualEntry, now: Date = Date()) throws {
        type = try Validate.enumeration(CommunicationType.self, body._type.rawValue, "type")
        clientID = try Validate.identifier(body.clientId, "client_id")
        patientID = try body.patientId.map { try Validate.identifier($0, "patient_id") }
        locationID = try body.locationId.map { try Validate.identifier($0, "location_id") }
        direction = try body.direction.map { try Validate.enumeration(Direction.self, $0.rawValue, "direction") }
        if type == .note, direction != nil { throw Problem.unprocessable("direction: a note has no direction") }
        occurredAt = body.occurredAt ?? now
        reason = try body.reason.map { try Validate.identifier($0, "reason") }
        address = try Validate.text(body.address, "address", maximum: 1000)
        subject = try Validate.text(body.subject, "subject", maximum: 1000)
        description = try Validate.text(body.description, "description", maximum: 100_000)
        notes = try Validate.text(body.notes, "notes", maximum: 100_000)
    }
}

/// The fields a PATCH changes. For text fields nil means unchanged, `.some(nil)` cleared (an empty string).
struct EntryChange: Sendable {
    var subject: String??
    var description: String??
    var notes: String??
    var reason: String??
    var address: String??
    var patientID: String??
    var occurredAt: Date?
    var direction: Direction?
    var related: [RelatedPerson]?

    init(_ body: Components.Schemas.EntryPatch) throws {
        if let title = body.title, let subject = body.subject, title != subject {
            throw Problem.unprocessable("title and subject are the same field: send one, or both with the same value")
        }
        subject = try Self.clearable(body.title ?? body.subject, body.title != nil ? "title" : "subject", maximum: 1000)
        description = try Self.clearable(body.description, "description", maximum: 100_000)
        notes = try Self.clearable(body.notes, "notes", maximum: 100_000)
        reason = try Self.clearable(body.reason, "reason", maximum: 200)
        address = try Self.clearable(body.address, "address", maximum: 1000)
        patientID = try Self.clearable(body.patientId, "patient_id", maximum: 200)
        occurredAt = body.occurredAt
        direction = try body.direction.map { try Validate.enumeration(Direction.self, $0.rawValue, "direction") }
        if let related = body.related {
            guard related.count <= 100 else { throw Problem.badRequest("related: at most 100 people (got \(related.count))") }
            self.related = try related.enumerated().map { index, person in
                RelatedPerson(
                    kind: try Validate.enumeration(ParticipantKind.self, person.kind.rawValue, "related[\(index)].kind"),
                    id: try Validate.identifier(person.id, "related[\(index)].id")
                )
            }
        }
    }

    var isEmpty: Bool {
        subject == nil && description == nil && notes == nil && reason == nil && address == nil && patientID == nil
            && occurredAt == nil && direction == nil && related == nil
    }

    /// Fields given that an open call does not take (only title/subject, description and related).
    var fieldsOutsideCallEdits: [String] {
        var fields: [String] = []
        if notes != nil { fields.append("notes") }
        if reason != nil { fields.append("reason") }
        if address != nil { fields.append("address") }
        if patientID != nil { fields.append("patient_id") }
        if occurredAt != nil { fields.append("occurred_at") }
        if direction != nil { fields.append("direction") }
        return fields
    }

    /// The text columns to set, in a fixed order.
    var textAssignments: [(column: String, value: String?)] {
        [("subject", subject), ("description", description), ("notes", notes), ("reason", reason), ("address", address), ("patient_id", patientID)]
            .compactMap { column, value in value.map { (column, $0) } }
    }

    private static func clearable(_ value: String?, _ name: String, maximum: Int) throws -> String?? {
        guard let value else { return nil }
        if value.isEmpty { return .some(nil) }
        if name == "reason" || name == "patient_id" { return .some(try Validate.identifier(value, name)) }
        return .some(try Validate.text(value, name, maximum: maximum))
    }
}

/// The limits of `openapi.yaml`, which the generated layer does not enforce; each problem names its field.
enum Validate {
    static func identifier(_ value: String, _ name: String) throws -> String {
        guard (1...200).contains(value.count), value.contains(where: { !$0.isWhitespace }) else {
            throw Problem.badRequest("\(name): must be 1 to 200 characters, not all blank")
        }
        return try storable(value, name)
    }

    static func text(_ value: String?, _ name: String, maximum: Int) throws -> String? {
        guard let value else { return nil }
        guard value.count <= maximum else { throw Problem.badRequest("\(name): at most \(maximum) characters (got \(value.count))") }
        return try storable(value, name)
    }

    /// Text PostgreSQL can keep: it has no NUL character.
    static func storable(_ value: String, _ name: String) throws -> String {
        guard !value.utf8.contains(0) else { throw Problem.badRequest("\(name): must not contain NUL (U+0000) characters") }
        return value
    }

    /// An `If-Match` or `Last-Event-ID` header within the document's 200 characters.
    static func header(_ value: String?, _ name: String) throws -> String? {
        guard let value else { return nil }
        guard (1...200).contains(value.count) else { throw Problem.badRequest("\(name): must be 1 to 200 characters (got \(value.count))") }
        return value
    }

    /// Maps a generated enumeration onto the domain's; the generated layer admits an empty case for nullable enums.
    static func enumeration<T: RawRepresentable<String>>(_ type: T.Type, _ raw: String, _ name: String) throws -> T {
        guard let value = T(rawValue: raw) else { throw Problem.badRequest("\(name): unknown value \(Problem.quoted(raw))") }
        return value
    }
}
