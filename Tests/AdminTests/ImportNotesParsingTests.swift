@testable import Admin
import CommlogDomain
import Foundation
import LogStore
import Testing

/// The pure parts of `commlog import notes`: times, reason codes, the checks of a row, reading CSV and JSON Lines.
@Suite("ImportNotes: parsing")
struct ImportNotesParsingTests {
    static let sydney = TimeZone(identifier: "Australia/Sydney")!


    @Test("times with an offset are taken as they are; without one, in the organisation's zone")
    func times() {
        let time = LegacyTime(timeZone: Self.sydney)
        #expect(time.date(from: "2019-03-04T10:15:00Z") == utc("2019-03-04T10:15:00Z"))
        #expect(time.date(from: "2019-03-04T10:15:00+10:00") == utc("2019-03-04T00:15:00Z"))
        #expect(time.date(from: "2019-03-04T10:15:00+1000") == utc("2019-03-04T00:15:00Z"))
        #expect(time.date(from: "2019-03-04T10:15:00-05") == utc("2019-03-04T15:15:00Z"))
        #expect(time.date(from: "2019-03-04T10:15:00.250Z") == utc("2019-03-04T10:15:00.250Z"))
        // March: summer time in Sydney (+11); July: standard (+10).
        #expect(time.date(from: "2019-03-04T10:15:00") == utc("2019-03-03T23:15:00Z"))
        #expect(time.date(from: "2019-07-04 10:15:00") == utc("2019-07-04T00:15:00Z"))
        #expect(time.date(from: "2019-07-04T10:15") == utc("2019-07-04T00:15:00Z"))
        #expect(time.date(from: "2019-07-04T10:15Z") == utc("2019-07-04T10:15:00Z"))
        #expect(time.date(from: "2019-07-04") == utc("2019-07-03T14:00:00Z"))
        #expect(time.date(from: "2019-07-04 10:15:00.5") == utc("2019-07-04T00:15:00.500Z"))
        for bad in ["", "yesterday", "04/07/2019 10:15", "2019-13-04T10:15:00", "2019-07-04T25:00:00", "2019-07-04T10:15:00+25:00", "2019-07-04T10:15:00 junk"] {
            #expect(time.date(from: bad) == nil, "\(bad)")
        }
    }

    @Test("a wall-clock time repeated when summer time ends is the first; one skipped when it starts takes the offset before")
    func summerTime() {
        let time = LegacyTime(timeZone: Self.sydney)
        // 2019-04-07 03:00 (+11) became 02:00 (+10): 02:30 happened twice, first at 15:30Z.
        #expect(time.date(from: "2019-04-07T02:30:00") == utc("2019-04-06T15:30:00Z"))
        // 2019-10-06 02:00 (+10) became 03:00 (+11): 02:30 never happened; read with +10.
        #expect(time.date(from: "2019-10-06T02:30:00") == utc("2019-10-05T16:30:00Z"))
        #expect(time.date(from: "2019-10-06T03:30:00") == utc("2019-10-05T16:30:00Z"))
    }

    @Test("categories become codes as OpenVPMS lookup codes look")
    func reasonCodes() {
        #expect(ReasonCode(label: "Surgery follow-up")?.rawValue == "SURGERY_FOLLOW_UP")
        #expect(ReasonCode(label: "  Bills & payments!! ")?.rawValue == "BILLS_PAYMENTS")
        #expect(ReasonCode(label: "Médecine générale")?.rawValue == "MEDECINE_GENERALE")
        #expect(ReasonCode(label: "Ad-hoc SMS")?.rawValue == "AD_HOC_SMS")
        #expect(ReasonCode(label: String(repeating: "Long category ", count: 10))?.rawValue.utf8.count == 64)
        #expect(ReasonCode(label: String(repeating: "A", count: 63) + " B")?.rawValue == String(repeating: "A", count: 63))
        #expect(ReasonCode(label: "予約")?.rawValue.hasPrefix("CATEGORY_") == true)
        #expect(ReasonCode(label: "予約") == ReasonCode(label: "予約"))
        #expect(ReasonCode(label: "  ") == nil)
        #expect(ReasonCode(label: "") == nil)
        for label in ["Surgery follow-up", "予約", String(repeating: "x", count: 300)] {
            let code = ReasonCode(label: label)!.rawValue
            #expect((1...64).contains(code.utf8.count) && code.utf8.allSatisfy { (65...90).contains($0) || (48...57).contains($0) || $0 == 95 })
        }
    }

    static func record(_ line: Int, _ values: [String: String]) -> LegacyRecord {
        var record = LegacyRecord(line: line)
        for (name, value) in values { record.set(name, value) }
        return record
    }

    @Test("each fault of a row is named; ids repeated in the file are refused after the first")
    func rowProblems() throws {
        var checker = LegacyNoteChecker(timeZone: Self.sydney)
        let good = ["legacy_id": "1", "occurred_at": "2019-07-04T10:15:00", "client_id": "c-1", "category": "Grooming", "text": "Nails clipped"]
        let (note, reason) = try checker.check(Self.record(2, good)).get()
        #expect(note.legacyID == "1" && note.clientID == "c-1" && note.text == "Nails clipped" && note.reason == "GROOMING")
        #expect(note.patientID == nil && note.authorStaffID == nil && note.locationID == nil)
        #expect(reason == ImportedReason(code: "GROOMING", label: "Grooming"))

        func fault(_ changes: [String: String], _ line: Int = 3) -> String? {
            guard case .failure(let problem) = checker.check(Self.record(line, good.merging(changes) { _, new in new })) else { return nil }
            return problem.description
        }
        #expect(fault(["legacy_id": "1"]) == "line 3: legacy_id \"1\" was already on line 2")
        #expect(fault(["legacy_id": " "]) == "line 3: no legacy_id")
        #expect(fault(["legacy_id": "2", "client_id": ""]) == "line 3: no client_id")
        #expect(fault(["legacy_id": "2", "occurred_at": ""]) == "line 3: no occurred_at")
        #expect(fault(["legacy_id": "2", "occurred_at": "last Tuesday"])?.hasPrefix("line 3: occurred_at \"last Tuesday\" is not an ISO 8601") == true)
        #expect(fault(["legacy_id": "2", "text": "a\u{0}b"]) == "line 3: text holds a NUL character")
        #expect(fault(["legacy_id": "2", "text": String(repeating: "é", count: 100_001)]) == "line 3: text has 100001 characters, more than 100000")
        #expect(fault(["legacy_id": "2", "patient_id": String(repeating: "p", count: 201)]) == "line 3: patient_id is longer than 200 characters")
        #expect(fault(["legacy_id": "2", "category": String(repeating: "c", count: 201)]) == "line 3: category is longer than 200 characters")
        // 100,000 characters of two bytes each are within the limit; a refused row does not take its id.
        #expect(fault(["legacy_id": "2", "text": String(repeating: "é", count: 100_000)]) == nil)
        #expect(fault(["legacy_id": "3", "category": "grooming!"]) == nil)
        #expect(checker.reasons == ["GROOMING": "Grooming"])
    }


    static func readAll(_ file: LegacyNoteFile) throws -> [Result<LegacyRecord, RowProblem>] {
        var rows: [Result<LegacyRecord, RowProblem>] = []
        while let row = try file.next() { rows.append(row) }
        return rows
    }

    @Test("CSV: quoted commas, quotes and line breaks; line numbers count the lines inside quotes; columns in any order")
    func csv() throws {
        let lines = [
            "\u{FEFF}Text,legacy_id,occurred_at,client_id,extra",
            "\"Called, left a message\",1,2019-07-04 10:15,c-1,x",
            "\"She said \"\"call me\"\" and\nthen:\n\"\"tomorrow\"\"\",2,2019-07-05 10:15,c-2,",
            "",
            "plain,3,2019-07-06 10:15,c-3,y",
            "",
        ]
        let path = try temporaryFile("notes.csv", lines.joined(separator: "\r\n"))
        let file = try LegacyNoteFile(path: path)
        #expect(file.format == .csv)
        #expect(file.unknownColumns == ["extra"])
        let rows = try Self.readAll(file).map { try $0.get() }
        #expect(rows.map(\.line) == [2, 3, 7])
        #expect(rows.map(\.legacyID) == ["1", "2", "3"])
        #expect(rows[0].text == "Called, left a message")
        #expect(rows[1].text == "She said \"call me\" and\nthen:\n\"tomorrow\"")
        #expect(rows[2].patientID == nil && rows[2].clientID == "c-3")
        #expect(file.bytesRead > 0 && file.bytesRead <= file.size)
    }

    @Test("CSV without a required column is refused as a whole")
    func csvHeader() throws {
        let path = try temporaryFile("bad.csv", "id,occurred_at,client_id\n1,2019-07-04,c-1\n")
        #expect(throws: LegacyNoteFile.Failure.self) { try LegacyNoteFile(path: path) }
        #expect(throws: LegacyNoteFile.Failure.self) { try LegacyNoteFile(path: "/nonexistent/notes.csv") }
    }

    @Test("JSON Lines: numbers as ids, null and absent keys, a broken line reported with its number")
    func jsonLines() throws {
        let path = try temporaryFile("notes.jsonl", """
            {"legacy_id": 17, "occurred_at": "2019-07-04T10:15:00", "client_id": 4021, "patient_id": null, "category": "Grooming", "text": "Line one\\nline two"}

            {"legacy_id": "18", "occurred_at": "2019-07-04T11:00:00Z", "client_id": "c-1", "text": "tab\\tand \\u00e9"}
            {"legacy_id": "19", "occurred_at": 
            {"legacy_id": ["x"], "client_id": "c-1"}
            """)
        let file = try LegacyNoteFile(path: path)
        #expect(file.format == .jsonLines)
        let rows = try Self.readAll(file)
        #expect(rows.count == 4)
        let first = try rows[0].get()
        #expect(first.line == 1 && first.legacyID == "17" && first.clientID == "4021" && first.patientID == nil && first.text == "Line one\nline two")
        let second = try rows[1].get()
        #expect(second.line == 3 && second.text == "tab\tand é" && second.category == nil)
        guard case .failure(let broken) = rows[2], case .failure(let wrongType) = rows[3] else {
            Issue.record("lines 4 and 5 should be problems")
            return
        }
        #expect(broken.line == 4 && broken.description.hasPrefix("line 4: not a JSON object"))
        #expect(wrongType.line == 5 && wrongType.description.contains("legacy_id"))
        #expect(file.bytesRead == file.size + 1)
    }
}
