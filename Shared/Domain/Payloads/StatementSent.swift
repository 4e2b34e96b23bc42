/// `practice.statement.sent`: a client's account statement was sent; accepted and never logged.
public struct StatementSent: EventPayload, Hashable {
    /// The client the statement was sent to.
    public let clientID: String

    /// Creates a statement payload.
    public init(clientID: String) {
        self.clientID = clientID
    }

    /// The client id is non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(clientID, "client_id")
    }

    /// Only `practice.statement.sent` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .statementSent }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
    }
}
