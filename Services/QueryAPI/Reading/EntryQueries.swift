import CommlogDomain
import CommlogRuntime
import Foundation
import Logging
import PostgresNIO

/// Reads of the log inside a tenant transaction: an entry's details, its history. Lists and single entries
/// are `EntryPages`' (with the visibility rules).
struct EntryQueries {
    let connection: PostgresConnection
    let caller: Caller
    let logger: Logger

    /// The pages read in this transaction.
    var pages: EntryPages { EntryPages(source: .transaction(connection), caller: caller, logger: logger) }

    /// One entry the caller may see, or nil (for a missing entry and an invisible one alike).
    func entry(_ id: UUID) async throws -> EntrySummary? {
        try await pages.entry(id)
    }

    /// Nothing, when the caller may see the entry; a 404 otherwise (before the log is asked to change it).
    func requireVisible(_ id: UUID) async throws {
        guard try await entry(id) != nil else { throw Problem.notFound() }
    }
}
