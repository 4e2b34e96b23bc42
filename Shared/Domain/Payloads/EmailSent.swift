/// `practice.email.sent`: the practice software sent an email, ad hoc or forwarding documents.
public struct EmailSent: EventPayload, Hashable {
    /// The location that sent it.
    public let locationID: String?
    /// The staff member who sent it.
    public let authorStaffID: String?
    /// The client it was sent to or about; for a forwarded document, the document's owner decides.
    public let clientID: String?
    /// The patient it is about.
    public let patientID: String?
    /// The sender's address; required.
    public let from: String
    /// Recipients.
    public let to: [String]
    /// Copy recipients.
    public let cc: [String]
    /// Blind copy recipients.
    public let bcc: [String]
    /// The subject line.
    public let subject: String?
    /// The plain-text body, of any length.
    public let bodyText: String?
    /// The HTML body, of any length.
    public let bodyHTML: String?
    /// The attached files.
    public let attachments: [EmailAttachment]
    /// The Message-ID the email was sent with, when the practice software says: the same message imported from
    /// a mailbox then completes this entry instead of logging a second one.
    public let messageID: String?

    /// Creates an email payload.
    public init(
        locationID: String? = nil,
        authorStaffID: String? = nil,
        clientID: String? = nil,
        patientID: String? = nil,
        from: String,
        to: [String],
        cc: [String] = [],
        bcc: [String] = [],
        subject: String? = nil,
        bodyText: String? = nil,
        bodyHTML: String? = nil,
        attachments: [EmailAttachment] = [],
        messageID: String? = nil
    ) {
        self.locationID = locationID
        self.authorStaffID = authorStaffID
        self.clientID = clientID
        self.patientID = patientID
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.bodyText = bodyText
        self.bodyHTML = bodyHTML
        self.attachments = attachments
        self.messageID = messageID
    }

    /// The documents attached; any makes the email a forwarded document.
    public var documents: [DocumentReference] { attachments.compactMap(\.document) }

    /// FORWARDED_DOCUMENT when a client or patient document is attached, AD_HOC_EMAIL otherwise.
    public var reason: ReasonCode { attachments.contains { $0.document != nil } ? .forwardedDocument : .adHocEmail }

    /// Ids are non-empty, every address contains "@", there is at least one recipient.
    public func validate() throws(EventDecodingError) {
        try Check.identifier(locationID, "location_id")
        try Check.identifier(authorStaffID, "author_staff_id")
        try Check.identifier(clientID, "client_id")
        try Check.identifier(patientID, "patient_id")
        try Check.emailAddress(from, "from")
        try Check.emailAddresses(to, "to")
        try Check.emailAddresses(cc, "cc")
        try Check.emailAddresses(bcc, "bcc")
        if let messageID, let problem = MessageID.problem(messageID) { throw .invalid("message_id", problem) }
        if to.isEmpty, cc.isEmpty, bcc.isEmpty {
            throw .invalid("to", "must list at least one recipient (in to, cc or bcc)")
        }
        for (index, attachment) in attachments.enumerated() {
            do throws(EventDecodingError) {
                try attachment.validate()
            } catch {
                throw error.nested(under: "attachments[\(index)]")
            }
        }
    }

    /// Only `practice.email.sent` carries it.
    public func isCarried(by type: EventType) -> Bool { type == .emailSent }
}

extension EmailSent {
    enum CodingKeys: String, CodingKey {
        case locationID = "location_id"
        case authorStaffID = "author_staff_id"
        case clientID = "client_id"
        case patientID = "patient_id"
        case from
        case to
        case cc
        case bcc
        case subject
        case bodyText = "body_text"
        case bodyHTML = "body_html"
        case attachments
        case messageID = "message_id"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            locationID: try container.decodeIfPresent(String.self, forKey: .locationID),
            authorStaffID: try container.decodeIfPresent(String.self, forKey: .authorStaffID),
            clientID: try container.decodeIfPresent(String.self, forKey: .clientID),
            patientID: try container.decodeIfPresent(String.self, forKey: .patientID),
            from: try container.decode(String.self, forKey: .from),
            to: try container.decodeList(of: String.self, forKey: .to),
            cc: try container.decodeList(of: String.self, forKey: .cc),
            bcc: try container.decodeList(of: String.self, forKey: .bcc),
            subject: try container.decodeIfPresent(String.self, forKey: .subject),
            bodyText: try container.decodeIfPresent(String.self, forKey: .bodyText),
            bodyHTML: try container.decodeIfPresent(String.self, forKey: .bodyHTML),
            attachments: try container.decodeList(of: EmailAttachment.self, forKey: .attachments),
            messageID: try container.decodeIfPresent(String.self, forKey: .messageID)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(locationID, forKey: .locationID)
        try container.encode(authorStaffID, forKey: .authorStaffID)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(patientID, forKey: .patientID)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(cc, forKey: .cc)
        try container.encode(bcc, forKey: .bcc)
        try container.encode(subject, forKey: .subject)
        try container.encode(bodyText, forKey: .bodyText)
        try container.encode(bodyHTML, forKey: .bodyHTML)
        try container.encode(attachments, forKey: .attachments)
        try container.encode(messageID, forKey: .messageID)
    }
}
