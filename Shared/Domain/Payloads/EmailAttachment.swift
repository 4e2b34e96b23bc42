/// A file attached to an email the practice software sent.
public struct EmailAttachment: Codable, Hashable, Sendable {
    /// The file name.
    public let name: String
    /// The MIME type, e.g. `application/pdf`.
    public let contentType: String?
    /// The size in bytes.
    public let size: Int?
    /// The client or patient document it is, if any: such an email is a forwarded document.
    public let document: DocumentReference?

    /// Creates an attachment description.
    public init(name: String, contentType: String? = nil, size: Int? = nil, document: DocumentReference? = nil) {
        self.name = name
        self.contentType = contentType
        self.size = size
        self.document = document
    }

    /// The size is zero or more; a document names its owner.
    func validate() throws(EventDecodingError) {
        try Check.nonNegative(size, "size")
        do throws(EventDecodingError) {
            try document?.validate()
        } catch {
            throw error.nested(under: "document")
        }
    }

    enum CodingKeys: String, CodingKey {
        case name
        case contentType = "content_type"
        case size
        case document
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            contentType: try container.decodeIfPresent(String.self, forKey: .contentType),
            size: try container.decodeIntegerIfPresent(forKey: .size),
            document: try container.decodeIfPresent(DocumentReference.self, forKey: .document)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(contentType, forKey: .contentType)
        try container.encode(size, forKey: .size)
        try container.encode(document, forKey: .document)
    }
}
