import Foundation
import PostgresNIO

/// A read statement that runs under an organisation's row-level security in one round trip.
///
/// `commlog_read` (migration 0007) sets the tenant and runs the statement, as one statement of its own:
/// a read outside a transaction costs one round trip instead of four (BEGIN, set the tenant, the read,
/// COMMIT). Inside a transaction the tenant it sets lasts to the end of that transaction, so use it there
/// only with the transaction's own organisation.
///
/// The statement's values travel as the text elements of one array, `$1` in the statement; `bind` adds one
/// and returns its placeholder with the cast it needs (`$1[2]::uuid`), so values never enter the text.
public struct TenantRead: Sendable {
    public let organisationID: String
    private var parameters: [String] = []

    public init(organisationID: String) {
        self.organisationID = organisationID
    }

    /// Adds a text value; returns its placeholder.
    public mutating func bind(_ value: String) -> String { add(value, cast: "") }

    public mutating func bind(_ value: UUID) -> String { add(value.uuidString, cast: "::uuid") }

    public mutating func bind(_ value: Int) -> String { add(String(value), cast: "::bigint") }

    public mutating func bind(_ value: Int64) -> String { add(String(value), cast: "::bigint") }

    /// A time, to the microsecond (as PostgreSQL keeps it).
    public mutating func bind(_ value: Date) -> String {
        let microseconds = Int64((value.timeIntervalSince1970 * 1_000_000).rounded())
        return "(timestamptz 'epoch' + \(add(String(microseconds), cast: "::bigint")) * interval '1 microsecond')"
    }

    private mutating func add(_ text: String, cast: String) -> String {
        parameters.append(text)
        return "$1[\(parameters.count)]\(cast)"
    }

    /// The query that runs `statement` (built with this value's placeholders).
    /// - Parameter columns: the statement's result columns in order, each with its exact type
    ///   (`id uuid, name text`): PostgreSQL needs them for a function that returns records, and refuses a
    ///   statement whose columns do not match.
    public func query(_ statement: String, columns: String) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(organisationID)
        bindings.append(statement)
        bindings.append(parameters)
        // A function scan returns the rows in the order the statement produced them.
        return PostgresQuery(unsafeSQL: "SELECT * FROM commlog_read($1, $2, $3) AS read(\(columns))", binds: bindings)
    }
}
