import CommlogDomain
import Foundation
import LogStore

/// One row of a legacy export as read, before any check: the columns (keys) of the format, `nil` where absent.
struct LegacyRecord: Sendable {
    /// The line of the file where the row starts (1 is the first line, the header of a CSV file).
    var line: Int
    var legacyID: String?
    var occurredAt: String?
    var clientID: String?
    var patientID: String?
    var category: String?
    var text: String?
    var authorStaffID: String?
    var locationID: String?

    /// The format's columns, in the order the documentation lists them.
    static let columns = ["legacy_id", "occurred_at", "client_id", "patient_id", "category", "text", "author_staff_id", "location_id"]
    /// Those a file must have.
    static let requiredColumns = ["legacy_id", "occurred_at", "client_id"]

    init(line: Int) {
        self.line = line
    }

    /// Sets the column `name` (one of `columns`).
    mutating func set(_ name: String, _ value: String?) {
        switch name {
        case "legacy_id": legacyID = value
        case "occurred_at": occurredAt = value
        case "client_id": clientID = value
        case "patient_id": patientID = value
        case "category": category = value
        case "text": text = value
        case "author_staff_id": authorStaffID = value
        case "location_id": locationID = value
        default: break
        }
    }
}

/// A row that could not be imported: where, and why.
struct RowProblem: Error, CustomStringConvertible {
    let line: Int
    /// Short and the same for every row with this fault, for the summary's counts.
    let kind: String
    let detail: String

    var description: String { "line \(line): \(detail)" }
}

/// Checks rows one after the other: fields, limits, the time, and legacy ids seen earlier in the file.
struct LegacyNoteChecker {
    /// As the API's `description` and `notes`.
    static let maximumTextCharacters = 100_000
    /// As the API's identifiers.
    static let maximumIDCharacters = 200
    /// As the API's reason labels.
    static let maximumCategoryCharacters = 200

    let time: LegacyTime
    /// The line of each legacy id seen so far.
    private var seen: [String: Int] = [:]
    /// The reasons the categories seen so far became, by code: the first label written wins.
    private(set) var reasons: [ReasonCode: String] = [:]

    init(timeZone: TimeZone) {
        time = LegacyTime(timeZone: timeZone)
    }

    /// The note the row holds, and the reason its category became; or why it cannot be imported.
    mutating func check(_ record: LegacyRecord) -> Result<(ImportedNote, ImportedReason?), RowProblem> {
        func problem(_ kind: String, _ detail: String) -> Result<(ImportedNote, ImportedReason?), RowProblem> {
            .failure(RowProblem(line: record.line, kind: kind, detail: detail))
        }
        let fields: [(String, String?)] = [
            ("legacy_id", record.legacyID), ("occurred_at", record.occurredAt), ("client_id", record.clientID), ("patient_id", record.patientID),
            ("category", record.category), ("text", record.text), ("author_staff_id", record.authorStaffID), ("location_id", record.locationID),
        ]
        for (name, value) in fields where value?.utf8.contains(0) == true {
            return problem("NUL character", "\(name) holds a NUL character")
        }
        guard let legacyID = Self.identifier(record.legacyID) else { return problem("no legacy_id", "no legacy_id") }
        guard let clientID = Self.identifier(record.clientID) else { return problem("no client_id", "no client_id") }
        let identifiers = [("legacy_id", legacyID), ("client_id", clientID), ("patient_id", Self.identifier(record.patientID)),
                           ("author_staff_id", Self.identifier(record.authorStaffID)), ("location_id", Self.identifier(record.locationID))]
        for case let (name, value?) in identifiers where value.unicodeScalars.count > Self.maximumIDCharacters {
            return problem("id too long", "\(name) is longer than \(Self.maximumIDCharacters) characters")
        }
        guard let occurred = Self.identifier(record.occurredAt) else { return problem("no occurred_at", "no occurred_at") }
        guard let occurredAt = time.date(from: occurred) else {
            return problem("unreadable occurred_at", "occurred_at \(Self.quoted(occurred)) is not an ISO 8601 date and time (2019-03-04T10:15:00, with or without an offset)")
        }
        let text = record.text.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        if let text, text.utf8.count > Self.maximumTextCharacters, text.unicodeScalars.count > Self.maximumTextCharacters {
            return problem("text too long", "text has \(text.unicodeScalars.count) characters, more than \(Self.maximumTextCharacters)")
        }
        let category = record.category?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if category.unicodeScalars.count > Self.maximumCategoryCharacters {
            return problem("category too long", "category is longer than \(Self.maximumCategoryCharacters) characters")
        }
        if let first = seen[legacyID] {
            return problem("repeated legacy_id", "legacy_id \(Self.quoted(legacyID)) was already on line \(first)")
        }
        seen[legacyID] = record.line

        var reason: ImportedReason?
        if let code = ReasonCode(label: category) {
            let label = reasons[code] ?? category
            reasons[code] = label
            reason = ImportedReason(code: code, label: label)
        }
        let note = ImportedNote(
            legacyID: legacyID, occurredAt: occurredAt, clientID: clientID, patientID: Self.identifier(record.patientID),
            reason: reason?.code, text: text, authorStaffID: Self.identifier(record.authorStaffID), locationID: Self.identifier(record.locationID)
        )
        return .success((note, reason))
    }

    /// The value without surrounding blanks; `nil` when nothing is left.
    private static func identifier(_ value: String?) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// At most 60 characters of `value`, quoted, for a message.
    static func quoted(_ value: String) -> String {
        "\"\(value.count > 60 ? value.prefix(59) + "…" : Substring(value))\""
    }
}
