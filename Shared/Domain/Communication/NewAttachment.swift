import Foundation

/// An attachment as a writer inserts it with its communication: metadata, hash and (usually) content.
public struct NewAttachment: Codable, Hashable, Sendable {
    /// The file name.
    public let name: String
    /// The MIME type, e.g. `application/pdf`.
    public let contentType: String
    /// The size in bytes.
    public let size: Int
    /// The SHA-256 of the content in lower-case hex, when known.
    public let sha256: String?
    /// The content, when it is kept (practice events describe attachments without content).
    public let content: [UInt8]?
    /// Whose document it is, for a forwarded client or patient document.
    public let documentOwner: DocumentOwner?
    /// The id of the document's owning client or patient.
    public let documentID: String?

    /// Creates an attachment.
    public init(
        name: String,
        contentType: String,
        size: Int,
        sha256: String? = nil,
        content: [UInt8]? = nil,
        documentOwner: DocumentOwner? = nil,
        documentID: String? = nil
    ) {
        self.name = name
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.content = content
        self.documentOwner = documentOwner
        self.documentID = documentID
    }

    enum CodingKeys: String, CodingKey {
        case name
        case contentType = "content_type"
        case size
        case sha256
        case content
        case documentOwner = "document_owner"
        case documentID = "document_id"
    }

    /// Decodes `content` from base64.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var content: [UInt8]?
        if let base64 = try container.decodeIfPresent(String.self, forKey: .content) {
            guard let data = Data(base64Encoded: base64) else {
                throw DecodingError.dataCorruptedError(forKey: .content, in: container, debugDescription: "must be base64")
            }
            content = Array(data)
        }
        self.init(
            name: try container.decode(String.self, forKey: .name),
            contentType: try container.decode(String.self, forKey: .contentType),
            size: try container.decodeInteger(forKey: .size),
            sha256: try container.decodeIfPresent(String.self, forKey: .sha256),
            content: content,
            documentOwner: try container.decodeIfPresent(DocumentOwner.self, forKey: .documentOwner),
            documentID: try container.decodeIfPresent(String.self, forKey: .documentID)
        )
    }

    /// Encodes `content` as base64 rather than an array of numbers.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(contentType, forKey: .contentType)
        try container.encode(size, forKey: .size)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(content.map { Data($0).base64EncodedString() }, forKey: .content)
        try container.encode(documentOwner, forKey: .documentOwner)
        try container.encode(documentID, forKey: .documentID)
    }
}
