import IMAP

/// Finds the folder of sent mail: the one with the `\Sent` special-use flag (RFC 6154), else the usual names.
enum SentFolder {
    static let fallbackNames = ["Sent", "Sent Items", "Sent Messages", "Sent Mail", "INBOX.Sent", "[Gmail]/Sent Mail", "Gesendet", "Envoyés"]

    static func find(in folders: [IMAPFolder]) -> String? {
        if let flagged = folders.first(where: { $0.hasFlag("\\Sent") }) { return flagged.name }
        for name in fallbackNames {
            if let folder = folders.first(where: { $0.name.lowercased() == name.lowercased() }) { return folder.name }
        }
        return nil
    }
}
