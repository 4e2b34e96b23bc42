import CommlogDomain
import CommlogRuntime
import Foundation
import LogStore

extension ManualEntry {
    /// A manual entry from its request body, validated against the document's limits.
    init(_ body: Components.Schemas.NewManualEntry, now: Date = Date()) throws {
        self.init(
            type: try Validate.enumeration(CommunicationType.self, body._type.rawValue, "type"),
            clientID: try Validate.identifier(body.clientId, "client_id"),
            occurredAt: body.occurredAt ?? now
        )
        patientID = try body.patientId.map { try Validate.identifier($0, "patient_id") }
        locationID = try body.locationId.map { try Validate.identifier($0, "location_id") }
        direction = try body.direction.map { try Validate.enumeration(Direction.self, $0.rawValue, "direction") }
        if type == .note, direction != nil { throw Problem.unprocessable("direction: a note has no direction") }
        reason = try body.reason.map { try Validate.identifier($0, "reason") }
        address = try Validate.text(body.address, "address", maximum: 1000)
        subject = try Validate.text(body.subject, "subject", maximum: 1000)
        description = try Validate.text(body.description, "description", maximum: 100_000)
        notes = try Validate.text(body.notes, "notes", maximum: 100_000)
    }
}

extension EntryChange {
    /// The fields a PATCH changes, validated; an empty string clears a text field.
    init(_ body: Components.Schemas.EntryPatch) throws {
        self.init()
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
        clientID = try body.clientId.map { try Validate.identifier($0, "client_id") }
        showInPatientHistory = body.showInPatientHistory
        printInPatientHistory = body.printInPatientHistory
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
