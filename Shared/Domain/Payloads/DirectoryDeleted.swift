/// `practice.directory.<entity>.deleted`: `{"<entity>_id": …}`, the entity being the one of the event type.
public struct DirectoryDeleted: EventPayload, Hashable {
    /// The kind of entry deleted, from the event type.
    public let entity: DirectoryEntity
    /// The practice software's id of the deleted entry.
    public let id: String

    /// Creates a deletion of the `entity` entry with `id`.
    public init(entity: DirectoryEntity, id: String) {
        self.entity = entity
        self.id = id
    }

    /// The event type that carries this deletion.
    public var eventType: EventType { entity.deletedEventType }

    /// The id is non-empty.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(id, entity.idKey)
    }

    /// Only the deletion event of its own entity carries it.
    public func isCarried(by type: EventType) -> Bool { type == entity.deletedEventType }
}

extension DirectoryDeleted {
    /// A key spelled at run time: `<entity>_id`.
    struct IDKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }

        init(_ entity: DirectoryEntity) {
            self.stringValue = entity.idKey
        }

        init?(stringValue: String) {
            self.stringValue = stringValue
        }

        init?(intValue: Int) {
            nil
        }
    }

    /// Decodes the data of a deletion whose entity the event type has already told.
    init(from decoder: any Decoder, entity: DirectoryEntity) throws {
        let container = try decoder.container(keyedBy: IDKey.self)
        self.init(entity: entity, id: try container.decode(String.self, forKey: IDKey(entity)))
    }

    /// Decodes without the event type: the entity is the one whose `<entity>_id` key is present.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: IDKey.self)
        let present = DirectoryEntity.allCases.filter { container.contains(IDKey($0)) }
        guard present.count == 1, let entity = present.first else {
            let keys = DirectoryEntity.allCases.map(\.idKey).joined(separator: ", ")
            let found = present.isEmpty ? "none" : present.map(\.idKey).joined(separator: ", ")
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "must hold exactly one of \(keys) (found \(found))"
                )
            )
        }
        self.init(entity: entity, id: try container.decode(String.self, forKey: IDKey(entity)))
    }

    /// Encodes `{"<entity>_id": id}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: IDKey.self)
        try container.encode(id, forKey: IDKey(entity))
    }
}
