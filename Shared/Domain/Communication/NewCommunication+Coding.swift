import Foundation

extension NewCommunication {
    enum CodingKeys: String, CodingKey {
        case organisationID = "organisation_id"
        case type
        case direction
        case status
        case occurredAt = "occurred_at"
        case answeredAt = "answered_at"
        case endedAt = "ended_at"
        case closedAt = "closed_at"
        case clientID = "client_id"
        case patientID = "patient_id"
        case locationID = "location_id"
        case authorStaffID = "author_staff_id"
        case reason
        case address
        case subject
        case description
        case notes
        case content
        case source
        case sourceRef = "source_ref"
        case template
        case reminderType = "reminder_type"
        case reminderCount = "reminder_count"
        case showInPatientHistory = "show_in_patient_history"
        case participants
        case attachments
        case messageID = "message_id"
    }

    /// Decodes the contract JSON: optional fields may be null or absent, absent arrays are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            organisationID: try container.decode(String.self, forKey: .organisationID),
            type: try container.decode(CommunicationType.self, forKey: .type),
            direction: try container.decodeIfPresent(Direction.self, forKey: .direction),
            status: try container.decode(CommunicationStatus.self, forKey: .status),
            occurredAt: try container.decode(Date.self, forKey: .occurredAt),
            answeredAt: try container.decodeIfPresent(Date.self, forKey: .answeredAt),
            endedAt: try container.decodeIfPresent(Date.self, forKey: .endedAt),
            closedAt: try container.decodeIfPresent(Date.self, forKey: .closedAt),
            clientID: try container.decodeIfPresent(String.self, forKey: .clientID),
            patientID: try container.decodeIfPresent(String.self, forKey: .patientID),
            locationID: try container.decodeIfPresent(String.self, forKey: .locationID),
            authorStaffID: try container.decodeIfPresent(String.self, forKey: .authorStaffID),
            reason: try container.decodeIfPresent(ReasonCode.self, forKey: .reason),
            address: try container.decodeIfPresent(String.self, forKey: .address),
            subject: try container.decodeIfPresent(String.self, forKey: .subject),
            description: try container.decodeIfPresent(String.self, forKey: .description),
            notes: try container.decodeIfPresent(String.self, forKey: .notes),
            content: try container.decodeIfPresent(String.self, forKey: .content),
            source: try container.decode(CommunicationSource.self, forKey: .source),
            sourceRef: try container.decode(String.self, forKey: .sourceRef),
            template: try container.decodeIfPresent(String.self, forKey: .template),
            reminderType: try container.decodeIfPresent(String.self, forKey: .reminderType),
            reminderCount: try container.decodeIntegerIfPresent(forKey: .reminderCount),
            showInPatientHistory: try container.decodeIfPresent(Bool.self, forKey: .showInPatientHistory) ?? false,
            participants: try container.decodeList(of: Participant.self, forKey: .participants),
            attachments: try container.decodeList(of: NewAttachment.self, forKey: .attachments),
            messageID: try container.decodeIfPresent(String.self, forKey: .messageID)
        )
    }

    /// Encodes the contract JSON, writing absent optional fields as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(organisationID, forKey: .organisationID)
        try container.encode(type, forKey: .type)
        try container.encode(direction, forKey: .direction)
        try container.encode(status, forKey: .status)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(answeredAt, forKey: .answeredAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(closedAt, forKey: .closedAt)
        try container.encode(clientID, forKey: .clientID)
        try container.encode(patientID, forKey: .patientID)
        try container.encode(locationID, forKey: .locationID)
        try container.encode(authorStaffID, forKey: .authorStaffID)
        try container.encode(reason, forKey: .reason)
        try container.encode(address, forKey: .address)
        try container.encode(subject, forKey: .subject)
        try container.encode(description, forKey: .description)
        try container.encode(notes, forKey: .notes)
        try container.encode(content, forKey: .content)
        try container.encode(source, forKey: .source)
        try container.encode(sourceRef, forKey: .sourceRef)
        try container.encode(template, forKey: .template)
        try container.encode(reminderType, forKey: .reminderType)
        try container.encode(reminderCount, forKey: .reminderCount)
        try container.encode(showInPatientHistory, forKey: .showInPatientHistory)
        try container.encode(participants, forKey: .participants)
        try container.encode(attachments, forKey: .attachments)
        try container.encode(messageID, forKey: .messageID)
    }
}
