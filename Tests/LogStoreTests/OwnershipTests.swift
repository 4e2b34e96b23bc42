import Foundation
import Testing

/// The log has one owner: SQL that writes its tables is found only under `Shared/LogStore` (and in migrations).
@Suite("LogStore: one owner")
struct OwnershipTests {
    @Test("no program writes communications, participants, contents, attachments, recordings or audit_history itself")
    func onlyLogStoreWrites() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tables = "communications|participants|contents|attachments|recordings|recording_chunks|audit_history"
        let writes = try Regex("(INSERT INTO|UPDATE|DELETE FROM)\\s+(\(tables))\\b")
        var offenders: [String] = []
        for folder in ["Services", "Shared"] {
            let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let file = enumerator?.nextObject() as? URL {
                guard file.pathExtension == "swift", !file.path.contains("/Shared/LogStore/") else { continue }
                let text = try String(contentsOf: file, encoding: .utf8)
                if text.contains(writes) { offenders.append(file.path.replacingOccurrences(of: root.path + "/", with: "")) }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test("mailboxes, call integrations and SMDR links have one store each, used by their program and commlog alike")
    func operationalStores() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let statements = try Regex("(INSERT INTO|UPDATE|DELETE FROM|FROM)\\s+(call_integrations|smdr_links|mailboxes|mailbox_folders)\\b")
        var offenders: [String] = []
        for folder in ["Services", "Shared"] {
            let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let file = enumerator?.nextObject() as? URL {
                guard file.pathExtension == "swift", !file.path.contains("/Shared/Integrations/") else { continue }
                if try String(contentsOf: file, encoding: .utf8).contains(statements) {
                    offenders.append(file.path.replacingOccurrences(of: root.path + "/", with: ""))
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
