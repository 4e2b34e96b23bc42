/// A client or patient document in the practice software, attached to an email.
public struct DocumentReference: Codable, Hashable, Sendable {
    /// Whose record the document belongs to.
    public let owner: DocumentOwner
    /// The id of the owning client or patient.
    public let id: String

    /// Creates a reference to a document of `owner` with the owner's `id`.
    public init(owner: DocumentOwner, id: String) {
        self.owner = owner
        self.id = id
    }

    /// The owner id is non-empty.
    func validate() throws(EventDecodingError) {
        try Check.identifier(id, "id")
    }

    enum CodingKeys: String, CodingKey {
        case owner
        case id
    }
}
