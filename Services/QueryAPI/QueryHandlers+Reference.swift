import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird
import OpenAPIRuntime
import PostgresNIO
import Storage

/// Reference data staff need next to the log: its reasons, and who read an entry's confidential content.
extension QueryHandlers {
    func listReasons(_ input: Operations.ListReasons.Input) async throws -> Operations.ListReasons.Output {
        let caller = try Self.caller()
        let reasons = try await reading.withTenant(caller.organisationID) { connection in
            try await DirectoryLookup(connection: connection, caller: caller, logger: logger).reasons()
        }
        return .ok(.init(body: .json(.init(items: reasons.map { .init(code: $0.code, label: $0.label, active: $0.active, system: $0.system) }))))
    }

    func createReason(_ input: Operations.CreateReason.Input) async throws -> Operations.CreateReason.Output {
        let caller = try Self.requireAdmin()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "the body must be application/json") }
        let code = try Self.reasonCode(body.code)
        let label = try Self.reasonLabel(body.label)
        let created = try await database.withTenant(caller.organisationID) { connection -> Bool in
            // Standard codes and the organisation's own are both visible here: either way the code is taken.
            for try await _ in try await connection.query("SELECT 1 FROM reasons WHERE code = \(code)", logger: logger) { return false }
            try await connection.query(
                "INSERT INTO reasons (organisation_id, code, name) VALUES (\(caller.organisationID), \(code), \(label))", logger: logger
            )
            return true
        }
        guard created else { throw Problem.conflict("reason \(Problem.quoted(code)) exists already (deactivate or rename it instead)") }
        return .created(.init(body: .json(.init(code: code, label: label, active: true, system: false))))
    }

    func updateReason(_ input: Operations.UpdateReason.Input) async throws -> Operations.UpdateReason.Output {
        let caller = try Self.requireAdmin()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "the body must be application/json") }
        let code = try Self.reasonCode(input.path.code)
        let label = try body.label.map(Self.reasonLabel)
        guard label != nil || body.active != nil else { throw Problem.badRequest("give label, active or both") }
        enum Outcome { case changed(String, Bool), standard, missing }
        let outcome = try await database.withTenant(caller.organisationID) { connection -> Outcome in
            for try await (newLabel, active) in try await connection.query("""
                UPDATE reasons SET name = coalesce(\(label), name), active = coalesce(\(body.active), active)
                WHERE organisation_id = \(caller.organisationID) AND code = \(code)
                RETURNING name, active
                """, logger: logger).decode((String, Bool).self) {
                return .changed(newLabel, active)
            }
            for try await _ in try await connection.query("SELECT 1 FROM reasons WHERE organisation_id IS NULL AND code = \(code)", logger: logger) {
                return .standard
            }
            return .missing
        }
        switch outcome {
        case .changed(let label, let active): return .ok(.init(body: .json(.init(code: code, label: label, active: active, system: false))))
        case .standard: throw Problem.conflict("\(code) is a standard reason: standard reasons do not change")
        case .missing: throw Problem.notFound("the organisation has no reason \(Problem.quoted(code))")
        }
    }

    func listCommunicationReads(_ input: Operations.ListCommunicationReads.Input) async throws -> Operations.ListCommunicationReads.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        guard caller.seesEverything else { throw Problem.forbidden("who read an entry is for managers and admins") }
        let reads = try await database.withTenant(caller.organisationID) { connection -> [Components.Schemas.EntryReads.ItemsPayloadPayload]? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            if try await queries.entry(id) == nil {
                guard try await queries.existsDeleted(id) else { return nil }
            }
            var reads: [Components.Schemas.EntryReads.ItemsPayloadPayload] = []
            for try await (staff, name, what, object, at) in try await connection.query("""
                SELECT r.staff_id, (SELECT nullif(s.name, '') FROM staff s WHERE s.organisation_id = r.organisation_id AND s.id = r.staff_id),
                       r.what, r.object_id, r.at
                FROM read_audit r WHERE r.organisation_id = \(caller.organisationID) AND r.communication_id = \(id)
                ORDER BY r.at, r.id
                """, logger: logger).decode((String, String?, String, String?, Date).self) {
                guard let what = Components.Schemas.EntryReads.ItemsPayloadPayload.WhatPayload(rawValue: what) else { continue }
                reads.append(.init(staffId: staff, staffName: name, what: what, objectId: object, at: at))
            }
            return reads
        }
        guard let reads else { throw Problem.notFound() }
        return .ok(.init(body: .json(.init(items: reads))))
    }

    /// The caller, when an admin.
    static func requireAdmin() throws -> Caller {
        let caller = try caller()
        guard caller.roles.contains(.admin) else { throw Problem.forbidden("reasons are created and changed by admins") }
        return caller
    }

    /// A reason code: 1 to 64 upper-case letters, digits and underscores.
    static func reasonCode(_ code: String) throws -> String {
        guard (1...64).contains(code.utf8.count), code.utf8.allSatisfy({ (65...90).contains($0) || (48...57).contains($0) || $0 == 95 }) else {
            throw Problem.badRequest("code: 1 to 64 upper-case letters, digits and underscores (got \(Problem.quoted(code)))")
        }
        return code
    }

    static func reasonLabel(_ label: String) throws -> String {
        let trimmed = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(trimmed.count) else { throw Problem.badRequest("label: 1 to 200 characters, not all blank") }
        return try Validate.storable(trimmed, "label")
    }
}
