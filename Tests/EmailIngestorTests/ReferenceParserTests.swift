import Foundation
import MIME
import Testing
import TestSupport

/// Commlog's parser against a reference (Python's `email` package, run in the test), field by field: subject,
/// from, to and cc, date, body text and attachment names.
@Suite("MIME parsing against a reference parser")
struct ReferenceParserTests {
    /// What one parser read of one message, normalised for comparison.
    struct Reading: Equatable {
        var subject: String?
        var from: [String]
        var to: [String]
        var cc: [String]
        var date: Int?
        var text: String?
        var attachments: [String]
    }

    static let fields = ["subject", "from", "to", "cc", "date", "text", "attachments"]

    static func normalised(_ text: String?) -> String? {
        guard let text else { return nil }
        let collapsed = text.replacingOccurrences(of: "\r\n", with: "\n").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return collapsed.isEmpty ? nil : collapsed
    }

    static func ours(_ raw: [UInt8]) throws -> Reading {
        let message = try MIMEParser.parse(raw)
        return Reading(
            subject: normalised(message.subject), from: message.from.map { $0.address.lowercased() }, to: message.to.map { $0.address.lowercased() },
            cc: message.cc.map { $0.address.lowercased() }, date: message.date.map { Int($0.timeIntervalSince1970) }, text: normalised(message.text),
            attachments: message.attachments.filter { !$0.isForwardedMessage && !$0.name.hasPrefix("attachment-") }.map(\.name).sorted()
        )
    }

    /// What `python3 arguments…` prints (run as a child process: Foundation's `Process` can miss a child's exit).
    static func python(_ arguments: [String]) async throws -> Data {
        let output = NSTemporaryDirectory() + "python-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try await ChildProcess(executable: "/usr/bin/env", arguments: ["python3"] + arguments,
                                            environment: ProcessInfo.processInfo.environment, outputPath: output).wait()
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        guard status == 0 else { throw ChildProcessError(description: "python3 exited with \(status): \(String(decoding: data, as: UTF8.self))") }
        return data
    }

    /// The reference's readings of `files`, in order.
    static func reference(_ files: [String]) async throws -> [Reading] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference/reference_parse.py").path
        let data = try await python([script] + files)
        let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return objects.map { object in
            func list(_ key: String) -> [String] { (object[key] as? [String] ?? []).map { $0.lowercased() } }
            return Reading(
                subject: normalised(object["subject"] as? String), from: list("from"), to: list("to"), cc: list("cc"),
                date: (object["date"] as? Double).map { Int($0) }, text: normalised(object["text"] as? String),
                attachments: (object["attachments"] as? [String] ?? []).sorted()
            )
        }
    }

    /// Per field, the messages on which both parsers agree.
    static func agreement(_ ours: [Reading], _ theirs: [Reading]) -> [String: [Bool]] {
        var result: [String: [Bool]] = [:]
        for (mine, reference) in zip(ours, theirs) {
            result["subject", default: []].append(mine.subject == reference.subject)
            result["from", default: []].append(mine.from == reference.from)
            result["to", default: []].append(mine.to == reference.to)
            result["cc", default: []].append(mine.cc == reference.cc)
            result["date", default: []].append(mine.date == reference.date)
            // Python's get_body picks one text part; mail clients, and Commlog, show every inline text part in
            // order: the reference's body coming first counts as agreement.
            result["text", default: []].append(mine.text == reference.text || (reference.text.map { mine.text?.hasPrefix($0) ?? false } ?? false))
            result["attachments", default: []].append(mine.attachments == reference.attachments)
        }
        return result
    }

    static func write(_ messages: [(name: String, raw: [UInt8])]) throws -> [String] {
        let folder = NSTemporaryDirectory() + "corpus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try messages.enumerated().map { index, message in
            let path = "\(folder)/\(index).eml"
            try Data(message.raw).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    @Test("the corpus of odd messages: every field agrees with the reference on every message")
    func constructedCorpus() async throws {
        let files = try Self.write(MailCorpus.messages)
        let ours = try MailCorpus.messages.map { try Self.ours($0.raw) }
        let theirs = try await Self.reference(files)
        #expect(theirs.count == ours.count)
        for (index, (mine, reference)) in zip(ours, theirs).enumerated() {
            #expect(mine == reference, "\(MailCorpus.messages[index].name)")
        }
        let agreement = Self.agreement(ours, theirs)
        print("constructed corpus, \(ours.count) messages: " + Self.fields.map { "\($0) \(agreement[$0]!.filter { $0 }.count)/\(ours.count)" }.joined(separator: ", "))
    }

    @Test("CPython's email test messages: every one is read, and the fields agree with the reference on most")
    func cpythonCorpus() async throws {
        let files = try await MailCorpus.cpythonCorpus()
        #expect(files.count >= 40, "CPython's test_email data should be installed with python3")
        var ours: [Reading] = []
        for file in files {
            ours.append(try Self.ours(Array(try Data(contentsOf: file))))
        }
        let theirs = try await Self.reference(files.map(\.path))
        let agreement = Self.agreement(ours, theirs)
        print("CPython corpus, \(files.count) messages: " + Self.fields.map { "\($0) \(agreement[$0]!.filter { $0 }.count)/\(files.count)" }.joined(separator: ", "))
        for (index, file) in files.enumerated() {
            let differing = Self.fields.filter { agreement[$0]![index] == false }
            if !differing.isEmpty {
                print("  \(file.lastPathComponent): \(differing.joined(separator: ", ")) differ")
                if ProcessInfo.processInfo.environment["COMMLOG_CORPUS_DETAIL"] != nil { print("    ours:      \(ours[index])\n    reference: \(theirs[index])") }
            }
        }
        for field in ["subject", "from", "to", "date"] {
            #expect(Double(agreement[field]!.filter { $0 }.count) >= 0.9 * Double(files.count), "\(field)")
        }
    }
}
