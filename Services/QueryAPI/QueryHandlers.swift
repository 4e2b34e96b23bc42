import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import LogStore
import OpenAPIRuntime
import Storage

/// The query API's operations, generated from `openapi.yaml` and implemented here.
struct QueryHandlers: APIProtocol {
    let database: Database
    /// Where this request's lists and look-ups read: the replica once it has replayed the caller's own last
    /// write, else the primary (`ReadYourWritesMiddleware`). Reads that write (audited content) use `database`.
    var reading: Database {
        get async { await database.forReading(after: ReadFloor.current) }
    }
    /// Publishes `communication.logged` / `communication.updated` after a write commits, for live views.
    let announcer: Announcer
    /// The live event streams of this replica.
    let live: LiveHub
    /// Signs the page cursors handed out and checks those taken back.
    let cursors: PageCursorSigner
    /// Where national phone numbers typed into a directory look-up are read (`COMMLOG_PHONE_REGION`).
    let phoneRegion: String?
    let logger: Logger

    func listCommunications(_ input: Operations.ListCommunications.Input) async throws -> Operations.ListCommunications.Output {
        let caller = try Self.caller()
        let filter = try await ListFilter(input.query, cursors: cursors, organisationID: caller.organisationID)
        if filter.unfiled && !caller.seesEverything {
            throw Problem.forbidden("the unfiled entries are for managers and admins")
        }
        if filter.isBoard && !caller.seesEverything {
            throw Problem.forbidden("the organisation-wide board is for managers and admins; filter by client_id, patient_id or staff_id")
        }
        let page = try await EntryPages(source: .pool(await reading.client), caller: caller, logger: logger).list(filter)
        let next = try await page.next?.encoded(signedBy: cursors, organisationID: caller.organisationID)
        return .ok(.init(body: .json(EntryPageJSON(items: page.items, nextCursor: next))))
    }

    func getCommunication(_ input: Operations.GetCommunication.Input) async throws -> Operations.GetCommunication.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let entry = try await database.withTenant(caller.organisationID) { connection -> EntryJSON? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            guard let summary = try await queries.entry(id) else { return nil }
            return try await queries.details(of: summary)
        }
        guard let entry else { throw Problem.notFound() }
        return .ok(.init(headers: .init(eTag: "\"\(entry.summary.version)\""), body: .json(entry)))
    }

    /// A path parameter that must be a UUID.
    static func uuid(_ value: String, _ name: String) throws -> UUID {
        guard let id = UUID(uuidString: value) else { throw Problem.badRequest("\(name): must be a UUID (got \(Problem.quoted(value)))") }
        return id
    }

    static func caller() throws -> Caller {
        guard let caller = Caller.current else { throw Problem.unauthorized("a bearer token is required") }
        return caller
    }
}

extension ListFilter {
    /// Validates the query of `GET /v1/communications`; every problem names its parameter.
    init(_ query: Operations.ListCommunications.Input.Query, cursors: PageCursorSigner, organisationID: String) async throws {
        func identifier(_ value: String?, _ name: String) throws -> String? {
            guard let value else { return nil }
            return try Validate.identifier(value, name)
        }
        clientID = try identifier(query.clientId, "client_id")
        patientID = try identifier(query.patientId, "patient_id")
        staffID = try identifier(query.staffId, "staff_id")
        reason = try identifier(query.reason, "reason")
        locationID = try identifier(query.locationId, "location_id")
        type = try query._type.map { try Self.value(CommunicationType.self, $0.rawValue, "type") }
        direction = try query.direction.map { try Self.value(Direction.self, $0.rawValue, "direction") }
        status = try query.status.map { try Self.value(CommunicationStatus.self, $0.rawValue, "status") }
        unfiled = query.unfiled ?? false
        if unfiled && clientID != nil { throw Problem.badRequest("unfiled: lists entries filed under no client; leave out client_id") }
        from = query.from
        to = query.to
        if let text = query.q {
            guard text.count <= 200 else { throw Problem.badRequest("q: at most 200 characters") }
            _ = try Validate.storable(text, "q")
            self.text = text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : text
        }
        if let limit = query.limit {
            guard (1...200).contains(limit) else { throw Problem.badRequest("limit: must be between 1 and 200 (got \(limit))") }
            self.limit = limit
        }
        if let cursor = query.cursor {
            guard let decoded = try await PageCursor(encoded: cursor, signedBy: cursors, organisationID: organisationID) else {
                throw Problem.badRequest("cursor: not a cursor this API handed out for this organisation")
            }
            self.cursor = decoded
        }
    }

    private static func value<T: RawRepresentable<String>>(_ type: T.Type, _ raw: String, _ name: String) throws -> T {
        guard let value = T(rawValue: raw) else { throw Problem.badRequest("\(name): unknown value \(Problem.quoted(raw))") }
        return value
    }
}
