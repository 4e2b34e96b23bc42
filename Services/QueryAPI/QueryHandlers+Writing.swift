import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird
import LogStore
import OpenAPIRuntime
import PostgresNIO
import Storage

/// Manual entries, edits, deletes, history and calls.
extension QueryHandlers {
    func createCommunication(_ input: Operations.CreateCommunication.Input) async throws -> Operations.CreateCommunication.Output {
        let caller = try Self.caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "the body must be application/json") }
        let entry = try ManualEntry(body)
        let created = try await change(as: caller, announcing: .communicationLogged) { log, _ in
            try await log.create(entry, author: caller.staffID)
        }
        return .created(.init(
            headers: .init(eTag: "\"\(created.summary.version)\"", location: "/v1/communications/\(created.summary.id.uuidString.lowercased())"),
            body: .json(created)
        ))
    }

    func updateCommunication(_ input: Operations.UpdateCommunication.Input) async throws -> Operations.UpdateCommunication.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "the body must be application/json") }
        let change = try EntryChange(body)
        guard let ifMatch = try Validate.header(input.headers.ifMatch, "If-Match") else {
            throw Problem(.preconditionRequired, "If-Match is required: send the entry's ETag (from GET) so that a stale edit is refused")
        }
        let entry = try await self.change(as: caller, announcing: .communicationUpdated) { log, queries in
            try await queries.requireVisible(id)
            try await log.update(id, change, ifMatch: ifMatch, by: caller.actor)
            return id
        }
        return .ok(.init(headers: .init(eTag: "\"\(entry.summary.version)\""), body: .json(entry)))
    }

    func deleteCommunication(_ input: Operations.DeleteCommunication.Input) async throws -> Operations.DeleteCommunication.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let ifMatch = try Validate.header(input.headers.ifMatch, "If-Match")
        let notice = try await database.withTenant(caller.organisationID) { connection in
            let log = EntryLog(connection: connection, logger: logger)
            try await EntryQueries(connection: connection, caller: caller, logger: logger).requireVisible(id)
            try await log.delete(id, ifMatch: ifMatch, by: caller.actor)
            return try await log.notice(id)
        }
        announce(.communicationUpdated, notice, organisation: caller.organisationID)
        return .noContent(.init())
    }

    func endCall(_ input: Operations.EndCall.Input) async throws -> Operations.EndCall.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let entry = try await change(as: caller, announcing: .communicationUpdated) { log, queries in
            try await queries.requireVisible(id)
            try await log.endCall(id, by: caller.actor)
            return id
        }
        return .ok(.init(headers: .init(eTag: "\"\(entry.summary.version)\""), body: .json(entry)))
    }

    func getCommunicationHistory(_ input: Operations.GetCommunicationHistory.Input) async throws -> Operations.GetCommunicationHistory.Output {
        let caller = try Self.caller()
        let id = try Self.uuid(input.path.id, "id")
        let items = try await reading.withTenant(caller.organisationID) { connection -> [HistoryEntryJSON]? in
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            if try await queries.entry(id) == nil {
                // The history of a deleted entry stays readable for managers and admins.
                guard caller.seesEverything, try await queries.existsDeleted(id) else { return nil }
            }
            return try await queries.history(of: id)
        }
        guard let items else { throw Problem.notFound() }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func listOpenCalls(_ input: Operations.ListOpenCalls.Input) async throws -> Operations.ListOpenCalls.Output {
        let caller = try Self.caller()
        let calls = try await EntryPages(source: .pool(await reading.client), caller: caller, logger: logger).openCalls()
        return .ok(.init(body: .json(.init(items: calls))))
    }

    /// Runs a change of the log in the caller's transaction, reads the entry back, and announces it after the commit.
    private func change(
        as caller: Caller,
        announcing type: EventType,
        _ body: @Sendable @escaping (EntryLog, EntryQueries) async throws -> UUID
    ) async throws -> EntryJSON {
        let (entry, notice) = try await database.withTenant(caller.organisationID) { connection -> (EntryJSON, CommunicationChanged?) in
            let log = EntryLog(connection: connection, logger: logger)
            let queries = EntryQueries(connection: connection, caller: caller, logger: logger)
            let id = try await body(log, queries)
            guard let summary = try await queries.entry(id) else { throw Problem.notFound() }
            return (try await queries.details(of: summary, auditing: false), try await log.notice(id))
        }
        announce(type, notice, organisation: caller.organisationID)
        return entry
    }

    private func announce(_ type: EventType, _ notice: CommunicationChanged?, organisation: String) {
        guard let notice else { return }
        do {
            announcer.announce([try EventEnvelope(type: type, organisationID: organisation, data: notice).outgoing()])
        } catch {
            logger.warning("could not encode \(type.rawValue)", metadata: ["error": "\(error)"])
        }
    }
}
