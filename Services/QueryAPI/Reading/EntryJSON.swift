import CommlogDomain
import Foundation
import LogStore

/// The JSON of a list item. Every field is written, `null` when it does not apply, as the contract promises
/// (the generated types would leave such fields out); `openapi-generator-config.yaml` maps the
/// `CommunicationSummary` schema to this type.
typealias EntrySummaryJSON = EntrySummary

extension EntrySummary: Codable {
    enum CodingKeys: String, CodingKey {
        case id, type, direction, status, outcome, reason, address, subject, description, notes, source, participants, version
        case occurredAt = "occurred_at", claimedAt = "claimed_at", answeredAt = "answered_at", endedAt = "ended_at", closedAt = "closed_at"
        case durationSeconds = "duration_s", clientID = "client_id", patientID = "patient_id", locationID = "location_id"
        case authorStaffID = "author_staff_id", showInPatientHistory = "show_in_patient_history", hasRecording = "has_recording"
        case template, reminderType = "reminder_type", reminderCount = "reminder_count", ambiguous
        case clientName = "client_name", patientName = "patient_name", locationName = "location_name", authorName = "author_name"
        case reasonLabel = "reason_label", printInPatientHistory = "print_in_patient_history"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var entry = StoredEntry(
            id: try c.decode(UUID.self, forKey: .id), type: try c.decode(CommunicationType.self, forKey: .type),
            direction: try c.decodeIfPresent(Direction.self, forKey: .direction), status: try c.decode(CommunicationStatus.self, forKey: .status),
            occurredAt: try c.decode(Date.self, forKey: .occurredAt), claimedAt: try c.decodeIfPresent(Date.self, forKey: .claimedAt),
            answeredAt: try c.decodeIfPresent(Date.self, forKey: .answeredAt), endedAt: try c.decodeIfPresent(Date.self, forKey: .endedAt),
            closedAt: try c.decodeIfPresent(Date.self, forKey: .closedAt), outcome: try c.decodeIfPresent(CallOutcome.self, forKey: .outcome),
            durationSeconds: try c.decodeIfPresent(Int.self, forKey: .durationSeconds),
            clientID: try c.decodeIfPresent(String.self, forKey: .clientID), patientID: try c.decodeIfPresent(String.self, forKey: .patientID),
            locationID: try c.decodeIfPresent(String.self, forKey: .locationID), authorStaffID: try c.decodeIfPresent(String.self, forKey: .authorStaffID),
            reason: try c.decodeIfPresent(String.self, forKey: .reason), address: try c.decodeIfPresent(String.self, forKey: .address),
            subject: try c.decodeIfPresent(String.self, forKey: .subject), description: try c.decodeIfPresent(String.self, forKey: .description),
            notes: try c.decodeIfPresent(String.self, forKey: .notes), source: try c.decode(CommunicationSource.self, forKey: .source),
            template: try c.decodeIfPresent(String.self, forKey: .template), reminderType: try c.decodeIfPresent(String.self, forKey: .reminderType),
            reminderCount: try c.decodeIfPresent(Int.self, forKey: .reminderCount), ambiguous: try c.decodeIfPresent(Bool.self, forKey: .ambiguous) ?? false,
            showInPatientHistory: try c.decode(Bool.self, forKey: .showInPatientHistory),
            printInPatientHistory: try c.decodeIfPresent(Bool.self, forKey: .printInPatientHistory) ?? false,
            version: try c.decode(Int.self, forKey: .version)
        )
        entry.participants = try c.decode([Participant].self, forKey: .participants)
        self.init(
            entry: entry, hasRecording: try c.decode(Bool.self, forKey: .hasRecording),
            names: EntryNames(
                client: try c.decodeIfPresent(String.self, forKey: .clientName), patient: try c.decodeIfPresent(String.self, forKey: .patientName),
                location: try c.decodeIfPresent(String.self, forKey: .locationName), author: try c.decodeIfPresent(String.self, forKey: .authorName),
                reason: try c.decodeIfPresent(String.self, forKey: .reasonLabel)
            )
        )
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entry.id.uuidString.lowercased(), forKey: .id)
        try c.encode(entry.type, forKey: .type)
        try c.encode(entry.direction, forKey: .direction)
        try c.encode(entry.status, forKey: .status)
        try c.encode(entry.occurredAt, forKey: .occurredAt)
        try c.encode(entry.claimedAt, forKey: .claimedAt)
        try c.encode(entry.answeredAt, forKey: .answeredAt)
        try c.encode(entry.endedAt, forKey: .endedAt)
        try c.encode(entry.closedAt, forKey: .closedAt)
        try c.encode(entry.outcome, forKey: .outcome)
        try c.encode(entry.durationSeconds, forKey: .durationSeconds)
        try c.encode(entry.clientID, forKey: .clientID)
        try c.encode(names.client, forKey: .clientName)
        try c.encode(entry.patientID, forKey: .patientID)
        try c.encode(names.patient, forKey: .patientName)
        try c.encode(entry.locationID, forKey: .locationID)
        try c.encode(names.location, forKey: .locationName)
        try c.encode(entry.authorStaffID, forKey: .authorStaffID)
        try c.encode(names.author, forKey: .authorName)
        try c.encode(entry.reason, forKey: .reason)
        try c.encode(names.reason, forKey: .reasonLabel)
        try c.encode(entry.address, forKey: .address)
        try c.encode(entry.subject, forKey: .subject)
        try c.encode(entry.description, forKey: .description)
        try c.encode(entry.notes, forKey: .notes)
        try c.encode(entry.source, forKey: .source)
        try c.encode(entry.showInPatientHistory, forKey: .showInPatientHistory)
        try c.encode(entry.printInPatientHistory, forKey: .printInPatientHistory)
        try c.encode(hasRecording, forKey: .hasRecording)
        try c.encode(entry.version, forKey: .version)
        try c.encode(entry.template, forKey: .template)
        try c.encode(entry.reminderType, forKey: .reminderType)
        try c.encode(entry.reminderCount, forKey: .reminderCount)
        try c.encode(entry.ambiguous, forKey: .ambiguous)
        try c.encode(entry.participants, forKey: .participants)
    }
}

/// A page of a list: the items and the cursor of the next page (`null` on the last).
struct EntryPageJSON: Codable, Hashable, Sendable {
    var items: [EntrySummary]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    init(items: [EntrySummary], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decode([EntrySummary].self, forKey: .items)
        nextCursor = try c.decodeIfPresent(String.self, forKey: .nextCursor)
    }

    func encode(to encoder: any Encoder) throws {
        // In a request, the page is written directly (see PreEncodedBody) and the encoder gets an empty object.
        if let slot = PreEncodedBody.slot, slot.bytes == nil {
            slot.bytes = EntryPageWriter.page(items, nextCursor: nextCursor)
            _ = encoder.container(keyedBy: CodingKeys.self)
            return
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

/// One entry read by id: the summary's fields plus content, attachments and recording information.
struct EntryJSON: Codable, Hashable, Sendable {
    struct Attachment: Codable, Hashable, Sendable {
        var id: UUID
        var name: String
        var contentType: String
        var size: Int
        var sha256: String?
        var documentOwner: String?
        var documentID: String?
        var hasContent: Bool

        enum CodingKeys: String, CodingKey {
            case id, name, size, sha256
            case contentType = "content_type", documentOwner = "document_owner", documentID = "document_id", hasContent = "has_content"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id.uuidString.lowercased(), forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(contentType, forKey: .contentType)
            try c.encode(size, forKey: .size)
            try c.encode(sha256, forKey: .sha256)
            try c.encode(documentOwner, forKey: .documentOwner)
            try c.encode(documentID, forKey: .documentID)
            try c.encode(hasContent, forKey: .hasContent)
        }
    }

    struct Recording: Codable, Hashable, Sendable {
        var contentType: String
        var size: Int
        var sha256: String

        enum CodingKeys: String, CodingKey {
            case size, sha256
            case contentType = "content_type"
        }
    }

    var summary: EntrySummary
    var content: String?
    var attachments: [Attachment]
    var recording: Recording?

    enum CodingKeys: String, CodingKey {
        case content, attachments, recording
    }

    init(summary: EntrySummary, content: String?, attachments: [Attachment], recording: Recording?) {
        self.summary = summary
        self.content = content
        self.attachments = attachments
        self.recording = recording
    }

    init(from decoder: any Decoder) throws {
        summary = try EntrySummary(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = try c.decodeIfPresent(String.self, forKey: .content)
        attachments = try c.decode([Attachment].self, forKey: .attachments)
        recording = try c.decodeIfPresent(Recording.self, forKey: .recording)
    }

    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(content, forKey: .content)
        try c.encode(attachments, forKey: .attachments)
        try c.encode(recording, forKey: .recording)
    }
}
