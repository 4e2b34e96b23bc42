import CSV
import Foundation

/// A legacy export, read a row at a time: CSV with a header row (RFC 4180 quoting: commas, quotes and line
/// breaks inside quoted fields), read by CSV.swift's streaming reader, or JSON Lines, one object a line, read with
/// `JSONDecoder`. Which one is told by the first character that is not blank: `{` for JSON Lines.
final class LegacyNoteFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    enum Format: String { case csv = "CSV", jsonLines = "JSON Lines" }

    let format: Format
    /// The file's size in bytes.
    let size: Int
    /// About how many bytes have been read (exact for JSON Lines; for CSV the fields, separators and line
    /// ends, without quotes): with `size`, how far along the file is.
    private(set) var bytesRead = 0
    /// Columns of the header the format does not know (ignored).
    private(set) var unknownColumns: [String] = []

    private var csv: CSVReader?
    /// The format's column of each CSV column, `nil` for one it does not know.
    private var csvColumns: [String?] = []
    private var lines: LineReader?
    /// The line the next row starts on.
    private var line = 1

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure(description: "cannot open \(path)") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        let start = (try? handle.read(upToCount: 4_096)) ?? Data()
        try? handle.close()
        let firstCharacter = start.drop { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }.first
        format = firstCharacter == UInt8(ascii: "{") ? .jsonLines : .csv
        switch format {
        case .jsonLines:
            guard let reader = LineReader(path: path) else { throw Failure(description: "cannot open \(path)") }
            lines = reader
        case .csv:
            guard let stream = InputStream(fileAtPath: path) else { throw Failure(description: "cannot open \(path)") }
            let reader: CSVReader
            do {
                reader = try CSVReader(stream: stream, hasHeaderRow: true)
            } catch {
                throw Failure(description: "\(path) has no header row (\(error))")
            }
            let header = (reader.headerRow ?? []).enumerated().map { index, name in
                // A byte order mark before the first column's name (as spreadsheet programs write).
                (index == 0 ? name.replacingOccurrences(of: "\u{FEFF}", with: "") : name).trimmingCharacters(in: .whitespaces).lowercased()
            }
            let missing = LegacyRecord.requiredColumns.filter { !header.contains($0) }
            guard missing.isEmpty else {
                throw Failure(description: "the header row of \(path) lacks \(missing.joined(separator: ", ")) (it has \(header.joined(separator: ", ")))")
            }
            csvColumns = header.map { LegacyRecord.columns.contains($0) ? $0 : nil }
            unknownColumns = header.filter { !LegacyRecord.columns.contains($0) }
            csv = reader
            advance(over: reader.headerRow ?? [])
        }
    }

    /// The next row; `nil` at the end of the file. A JSON line that is not an object of the format is a problem.
    func next() throws -> Result<LegacyRecord, RowProblem>? {
        if let csv { return try nextCSV(csv).map { .success($0) } }
        return lines.flatMap(nextJSONLine)
    }

    private func nextCSV(_ csv: CSVReader) throws -> LegacyRecord? {
        while let fields = csv.next() {
            let record = LegacyRecord(line: line, csvFields: fields, columns: csvColumns)
            advance(over: fields)
            if fields.allSatisfy(\.isEmpty) { continue }  // a blank line
            return record
        }
        switch csv.error {
        case nil, CSVError.cannotReadFile?:  // how the reader ends a file it read to the end
            return nil
        case CSVError.unicodeDecoding?:
            throw Failure(description: "reading stopped at line \(line): the file is not UTF-8 text from there")
        case let error?:
            throw Failure(description: "reading stopped at line \(line): \(error)")
        }
    }

    /// Moves the line count and the bytes read past a CSV row.
    private func advance(over fields: [String]) {
        for field in fields {
            bytesRead += field.utf8.count + 1
            line += field.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        line += 1
    }

    private func nextJSONLine(_ lines: LineReader) -> Result<LegacyRecord, RowProblem>? {
        while let bytes = lines.next() {
            bytesRead += bytes.count + 1
            defer { line += 1 }
            var content = bytes[...]
            while let last = content.last, last == 0x0D || last == 0x20 || last == 0x09 { content = content.dropLast() }
            if line == 1, content.starts(with: [0xEF, 0xBB, 0xBF]) { content = content.dropFirst(3) }
            if content.isEmpty { continue }
            do {
                let object = try Self.decoder.decode(JSONLine.self, from: Data(content))
                return .success(object.record(line: line))
            } catch {
                return .failure(RowProblem(line: line, kind: "not a JSON object", detail: "not a JSON object of the format (\(Self.reason(error)))"))
            }
        }
        return nil
    }

    private static let decoder = JSONDecoder()

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "unreadable JSON" : "\(path): a string, number or null is expected"
        default: return "unreadable JSON"
        }
    }
}

extension LegacyRecord {
    init(line: Int, csvFields fields: [String], columns: [String?]) {
        self.init(line: line)
        for (index, column) in columns.enumerated() {
            guard let column else { continue }
            set(column, index < fields.count ? fields[index] : nil)
        }
    }
}

/// One JSON line: every key optional, ids as strings or numbers (SQL exports write numeric ids as numbers).
private struct JSONLine: Decodable {
    let values: [String: String]

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var values: [String: String] = [:]
        for name in LegacyRecord.columns {
            let key = Key(stringValue: name)
            guard container.contains(key), try !container.decodeNil(forKey: key) else { continue }
            if let text = try? container.decode(String.self, forKey: key) {
                values[name] = text
            } else if let number = try? container.decode(Int64.self, forKey: key) {
                values[name] = String(number)
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: [key], debugDescription: "a string, number or null"))
            }
        }
        self.values = values
    }

    func record(line: Int) -> LegacyRecord {
        var record = LegacyRecord(line: line)
        for (name, value) in values { record.set(name, value) }
        return record
    }
}

/// The lines of a file, read 1 MiB at a time, without their line feeds.
private final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        self.handle = handle
    }

    deinit { try? handle.close() }

    func next() -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                defer { start = newline + 1 }
                return buffer[start..<newline]
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return buffer[start...]
            }
            buffer.removeFirst(start)
            start = 0
            let chunk = (try? handle.read(upToCount: 1 << 20)) ?? nil
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }
}
