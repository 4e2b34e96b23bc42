import PostgresNIO

/// Builds a query with numbered parameters as conditions are added.
struct SQLBuilder {
    private var bindings = PostgresBindings()
    private var count = 0

    /// Adds a parameter and returns its placeholder (`$3`).
    mutating func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
        bindings.append(value)
        count += 1
        return "$\(count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}
