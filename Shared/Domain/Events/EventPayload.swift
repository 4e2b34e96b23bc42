/// The `data` of an event: Codable, comparable, and able to check the rules JSON types cannot express.
public protocol EventPayload: Codable, Sendable, Equatable {
    /// Throws on the first broken rule; field paths are relative to `data` (e.g. `to[1]`).
    func validate() throws(EventDecodingError)

    /// Whether an event of `type` may carry this payload.
    func isCarried(by type: EventType) -> Bool
}
