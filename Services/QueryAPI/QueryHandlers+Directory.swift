import CommlogDomain
import CommlogRuntime
import Foundation
import Storage

/// The directory look-ups a call's "Related To" picker and a note's patient picker need, and the
/// directory's lists: any signed-in staff member of the organisation; contact details only where `DirectoryLookup` allows.
extension QueryHandlers {
    func searchDirectory(_ input: Operations.SearchDirectory.Input) async throws -> Operations.SearchDirectory.Output {
        let caller = try Self.caller()
        let typed = try Validate.storable(input.query.q, "q")
        guard (1...100).contains(typed.count) else { throw Problem.badRequest("q: 1 to 100 characters (got \(typed.count))") }
        let query = DirectoryQuery(typed, region: phoneRegion)
        guard !query.isEmpty else { throw Problem.badRequest("q: give letters or digits to look for (got \(Problem.quoted(typed)))") }
        let kinds = try Self.directoryKinds(input.query.kinds)
        let limit = input.query.limit ?? 10
        guard (1...50).contains(limit) else { throw Problem.badRequest("limit: 1 to 50 (got \(limit))") }
        let records = try await DirectorySearch(client: await reading.client, caller: caller, logger: logger)
            .search(query, kinds: kinds, limit: limit)
        return .ok(.init(body: .json(.init(items: records.map(Self.match)))))
    }

    func getDirectoryClient(_ input: Operations.GetDirectoryClient.Input) async throws -> Operations.GetDirectoryClient.Output {
        let caller = try Self.caller()
        let id = try Validate.identifier(input.path.id, "id")
        let client = try await reading.withTenant(caller.organisationID) { connection in
            try await DirectoryLookup(connection: connection, caller: caller, logger: logger).client(id)
        }
        guard let client else { throw Problem.notFound("the organisation has no client \(Problem.quoted(id))") }
        let contact = client.record.mayContact
        return .ok(.init(body: .json(.init(
            id: client.record.id, name: client.record.name, deleted: client.deleted,
            emails: contact ? client.record.emails : nil, phones: contact ? client.record.phones : nil,
            patients: client.patients.map { .init(id: $0.id, name: $0.name) },
            connections: client.connections.map {
                .init(id: $0.id, name: $0.name, relationship: $0.relationship, emails: contact ? $0.emails : nil, phones: contact ? $0.phones : nil)
            },
            relatedStaff: client.relatedStaff.map { .init(id: $0.id, name: $0.name) }
        ))))
    }

    func getDirectoryPatient(_ input: Operations.GetDirectoryPatient.Input) async throws -> Operations.GetDirectoryPatient.Output {
        let caller = try Self.caller()
        let id = try Validate.identifier(input.path.id, "id")
        let patient = try await reading.withTenant(caller.organisationID) { connection in
            try await DirectoryLookup(connection: connection, caller: caller, logger: logger).patient(id)
        }
        guard let patient else { throw Problem.notFound("the organisation has no patient \(Problem.quoted(id))") }
        return .ok(.init(body: .json(.init(
            id: id, name: patient.record.name, deleted: patient.deleted, clientId: patient.record.clientID, clientName: patient.record.clientName
        ))))
    }

    func listLocations(_ input: Operations.ListLocations.Input) async throws -> Operations.ListLocations.Output {
        let caller = try Self.caller()
        let locations = try await reading.withTenant(caller.organisationID) { connection in
            try await DirectoryLookup(connection: connection, caller: caller, logger: logger).locations()
        }
        return .ok(.init(body: .json(.init(items: locations.map { .init(id: $0.id, name: $0.name) }))))
    }

    func listStaff(_ input: Operations.ListStaff.Input) async throws -> Operations.ListStaff.Output {
        let caller = try Self.caller()
        let staff = try await reading.withTenant(caller.organisationID) { connection in
            try await DirectoryLookup(connection: connection, caller: caller, logger: logger).staff()
        }
        return .ok(.init(body: .json(.init(items: staff.map { member in
            .init(
                id: member.id, name: member.name, roles: Self.roles(member.roles), _extension: member.extension,
                email: member.mayContact ? member.emails.first : nil, phones: member.mayContact ? member.phones : nil
            )
        }))))
    }

    /// `kinds` as a list: every kind when left out; an unknown or repeated kind is a 400.
    static func directoryKinds(_ raw: String?) throws -> [DirectoryRecord.Kind] {
        guard let raw else { return DirectoryRecord.Kind.allCases }
        var kinds: [DirectoryRecord.Kind] = []
        for name in raw.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let kind = DirectoryRecord.Kind(rawValue: name) else {
                throw Problem.badRequest("kinds: comma-separated client, patient, connection, staff (got \(Problem.quoted(name)))")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }

    static func match(_ record: DirectoryRecord) -> Components.Schemas.DirectoryMatch {
        let isStaff = record.kind == .staff
        return .init(
            kind: kind(record.kind), id: record.id, name: record.name, matched: matched(record.matched),
            clientId: record.clientID, clientName: record.clientName, relationship: record.relationship,
            roles: isStaff ? roles(record.roles) : nil, _extension: isStaff ? record.extension : nil,
            emails: record.mayContact && record.kind != .patient ? record.emails : nil,
            phones: record.mayContact && record.kind != .patient ? record.phones : nil
        )
    }

    private static func kind(_ kind: DirectoryRecord.Kind) -> Components.Schemas.DirectoryKind {
        switch kind {
        case .client: .client
        case .patient: .patient
        case .connection: .connection
        case .staff: .staff
        }
    }

    private static func matched(_ match: DirectoryRecord.Match) -> Components.Schemas.DirectoryMatch.MatchedPayload {
        switch match {
        case .name: .name
        case .email: .email
        case .phone, .extension: .phone
        }
    }

    /// Roles in the generated form of whichever schema carries them (the same three names).
    private static func roles<Role: RawRepresentable<String>>(_ roles: [StaffRole]) -> [Role] {
        roles.compactMap { Role(rawValue: $0.rawValue) }
    }
}
