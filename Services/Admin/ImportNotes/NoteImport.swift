import CommlogDomain
import Foundation
import LogStore
import Storage

/// One run of `commlog import notes`: reads the file, checks each row, and hands the good ones to the log in
/// batches, each its own transaction, while the next batch is read. A run that stops half-way (killed, the
/// database gone) leaves whole batches behind; the next run of the same file skips what is there already.
struct NoteImport {
    let database: Database
    let organisationID: String
    let path: String
    let dryRun: Bool
    let batchSize: Int

    struct Outcome: Sendable {
        let succeeded: Bool
    }

    /// What the run saw, for the summary.
    private struct Tally {
        var rows = 0
        var notes = 0
        var added = 0
        var problems: [String: Int] = [:]
        var badRows: Int { problems.values.reduce(0, +) }
    }

    func run() async throws -> Outcome {
        let log = ImportedNotes(database: database, organisationID: organisationID)
        guard let timeZone = try await log.timeZone() else {
            return failed("the organisation \(LegacyNoteChecker.quoted(organisationID)) is not in the directory (its practice.directory.organisation.upserted has not arrived): nothing imported")
        }
        let file: LegacyNoteFile
        do {
            file = try LegacyNoteFile(path: path)
        } catch {
            return failed("\(error): nothing imported")
        }
        if !file.unknownColumns.isEmpty { warn("ignoring the columns \(file.unknownColumns.joined(separator: ", "))") }
        let existingReasons = try await log.existingReasons()
        var checker = LegacyNoteChecker(timeZone: timeZone)
        let progress = ImportProgress(size: file.size, verb: dryRun ? "checked" : "imported")
        var tally = Tally()
        var sentReasons = Set<ReasonCode>()
        var readFailure: String?

        // The next batch of good notes, and the reasons they bring that the organisation lacks; nil at the end.
        func nextBatch() -> (notes: [ImportedNote], reasons: [ImportedReason])? {
            var notes: [ImportedNote] = []
            var reasons: [ImportedReason] = []
            notes.reserveCapacity(batchSize)
            while notes.count < batchSize {
                let next: Result<LegacyRecord, RowProblem>?
                do {
                    next = try file.next()
                } catch {
                    readFailure = "\(error)"
                    break
                }
                guard let next else { break }
                tally.rows += 1
                switch next.flatMap({ checker.check($0) }) {
                case .success(let (note, reason)):
                    notes.append(note)
                    if let reason, existingReasons[reason.code] == nil, sentReasons.insert(reason.code).inserted { reasons.append(reason) }
                case .failure(let problem):
                    tally.problems[problem.kind, default: 0] += 1
                    progress.report(problem.description)
                }
                progress.update(rows: tally.rows, bytes: file.bytesRead)
            }
            return notes.isEmpty && reasons.isEmpty ? nil : (notes, reasons)
        }

        var batch = nextBatch()
        while let current = batch {
            tally.notes += current.notes.count
            if dryRun {
                batch = nextBatch()
                continue
            }
            // The batch goes to the database while the next one is read.
            async let added = log.write(current.notes, reasons: current.reasons)
            batch = nextBatch()
            do {
                tally.added += try await added
            } catch {
                progress.finish()
                summarise(tally, file: file, checker: checker, existing: existingReasons, elapsed: progress.elapsed)
                return failed("the database refused a batch (\(error)); what was committed before stays: run the same command again to go on")
            }
        }
        progress.finish()
        summarise(tally, file: file, checker: checker, existing: existingReasons, elapsed: progress.elapsed)
        if let readFailure {
            return failed("\(readFailure): the rows before it were \(dryRun ? "checked" : "imported"); fix the file and run the command again")
        }
        if tally.notes == 0 && tally.rows > 0 { return failed("no row of the file could be imported") }
        return Outcome(succeeded: true)
    }

    private func summarise(_ tally: Tally, file: LegacyNoteFile, checker: LegacyNoteChecker, existing: [ReasonCode: String], elapsed: Duration) {
        let rate = Double(tally.rows) / max(elapsed.seconds, 0.001)
        var lines = ["\(path): \(ImportProgress.grouped(tally.rows)) rows (\(file.format.rawValue)) in \(ImportProgress.clock(elapsed.seconds)), \(ImportProgress.grouped(Int(rate))) rows/s"]
        if dryRun {
            lines.append("  dry run: \(ImportProgress.grouped(tally.notes)) notes can be imported; nothing was written")
        } else {
            lines.append("  \(ImportProgress.grouped(tally.added)) notes added, \(ImportProgress.grouped(tally.notes - tally.added)) imported before (or by a run at the same time)")
        }
        if tally.badRows > 0 {
            let kinds = tally.problems.sorted { $0.value > $1.value }.map { "\(ImportProgress.grouped($0.value)) \($0.key)" }
            lines.append("  \(ImportProgress.grouped(tally.badRows)) bad rows skipped (each named above with its line): \(kinds.joined(separator: ", "))")
        }
        let reasons = checker.reasons.sorted { $0.key.rawValue < $1.key.rawValue }
        let new = reasons.filter { existing[$0.key] == nil }.map { "\($0.key.rawValue) \(LegacyNoteChecker.quoted($0.value))" }
        let kept = reasons.filter { existing[$0.key] != nil }.map(\.key.rawValue)
        if !reasons.isEmpty {
            lines.append("  reasons: \(new.count) \(dryRun ? "to add" : "added")\(new.isEmpty ? "" : " (\(new.joined(separator: ", ")))"), \(kept.count) existing\(kept.isEmpty ? "" : " (\(kept.joined(separator: ", ")))")")
        }
        print(lines.joined(separator: "\n"))
    }

    private func failed(_ message: String) -> Outcome {
        warn(message)
        return Outcome(succeeded: false)
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("commlog import notes: \(message)\n".utf8))
    }
}
