internal import CGMime
import Foundation

/// GMime initialised once per process, before the first parse.
private let gmimeInitialised: Void = commlog_mime_init()

/// Parses raw RFC 5322 messages with GMime 3: headers decoded to UTF-8 whatever their charset,
/// bodies and attachments with their transfer encodings undone.
public enum MIMEParser {
    /// Whatever a mail client would show is kept: a message without From, To, Subject, Message-ID or Date, or
    /// without any header section, is a message with what it has (its body at least).
    public static func parse(_ raw: [UInt8]) throws -> ParsedMessage {
        _ = gmimeInitialised
        guard !raw.isEmpty else { throw MIMEError("an empty message") }
        let repaired = HeaderRepair.repair(raw)
        let parsed: UnsafeMutablePointer<GMimeObject>? = repaired.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { commlog_mime_parse($0.baseAddress, $0.count) }
        }
        guard let message = parsed else {
            // GMime made nothing of it: the bytes are the text, as a mail client would show them.
            var result = ParsedMessage()
            result.text = String(decoding: raw, as: UTF8.self)
            return result
        }
        defer { commlog_mime_unref(message) }

        var result = ParsedMessage()
        result.subject = commlog_mime_subject(message).map { String(cString: $0) }
        result.messageID = commlog_mime_message_id(message).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        var hasDate: Int32 = 0
        let seconds = commlog_mime_date(message, &hasDate)
        result.date = hasDate != 0 ? Date(timeIntervalSince1970: TimeInterval(seconds)) : nil
        result.from = addresses(message, 0)
        result.to = addresses(message, 2)
        result.cc = addresses(message, 3)
        result.bcc = addresses(message, 4)
        result.inReplyTo = ids(message, "In-Reply-To")
        result.references = ids(message, "References")
        if let body = commlog_mime_body(message) {
            var walker = PartWalker()
            walker.walk(body)
            result.text = walker.text
            result.html = walker.html
            result.attachments = walker.attachments
        }
        return result
    }

    /// GMime gives a list it cannot read as addresses (`foo, undisclosed-recipients:;`: a bare local part) as one
    /// address: such a list is split at its commas, each part kept as written.
    static func splitUnreadable(_ addresses: [MailAddress]) -> [MailAddress] {
        addresses.flatMap { address -> [MailAddress] in
            guard !address.address.contains("@"), address.address.contains(",") else { return [address] }
            return address.address.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { MailAddress(name: nil, address: $0) }
        }
    }

    private static func addresses(_ message: UnsafeMutablePointer<GMimeObject>, _ which: Int32) -> [MailAddress] {
        let box = Collected<MailAddress>()
        commlog_mime_addresses(message, which, { context, name, address in
            guard let context, let address else { return }
            let name = name.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            Collected<MailAddress>.from(context).items.append(MailAddress(name: name, address: String(cString: address)))
        }, box.pointer)
        return splitUnreadable(box.items)
    }

    private static func ids(_ message: UnsafeMutablePointer<GMimeObject>, _ header: String) -> [String] {
        let box = Collected<String>()
        commlog_mime_references(message, header, { context, value in
            guard let context, let value else { return }
            Collected<String>.from(context).items.append(String(cString: value))
        }, box.pointer)
        return box.items
    }
}

/// Walks the MIME tree: inline text/plain and the first text/html are the body, the rest are attachments.
private struct PartWalker {
    var text: String?
    var html: String?
    var attachments: [MailAttachment] = []

    mutating func walk(_ object: UnsafeMutablePointer<GMimeObject>) {
        if commlog_mime_is_encrypted(object) != 0 {
            let name = commlog_mime_filename(object).map { String(cString: $0) } ?? "encrypted.p7m"
            attachments.append(MailAttachment(name: name, contentType: mimeType(object), content: bytes(commlog_mime_object_bytes, object),
                                              isEncrypted: true, isForwardedMessage: false))
        } else if commlog_mime_is_multipart(object) != 0 {
            for index in 0..<commlog_mime_multipart_count(object) {
                if let child = commlog_mime_multipart_part(object, index) { walk(child) }
            }
        } else if commlog_mime_is_message_part(object) != 0 {
            guard let forwarded = commlog_mime_message_part_message(object) else { return }
            let subject = commlog_mime_subject(forwarded).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            attachments.append(MailAttachment(name: "\(subject ?? "forwarded message").eml", contentType: "message/rfc822",
                                              content: bytes(commlog_mime_object_bytes, forwarded), isEncrypted: false, isForwardedMessage: true))
        } else if commlog_mime_is_part(object) != 0 {
            leaf(object)
        }
    }

    private mutating func leaf(_ object: UnsafeMutablePointer<GMimeObject>) {
        // `Content-Type: text` without a subtype is text/plain to mail clients.
        let type = ["text", "text/"].contains(mimeType(object)) ? "text/plain" : mimeType(object)
        let disposition = commlog_mime_disposition(object).map { String(cString: $0).lowercased() }
        let filename = commlog_mime_filename(object).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        // A text part is the body unless it is an attachment; one with a file name (and no attachment disposition)
        // only when no body of its type came before: several mailers send the body that way, and clients show it.
        let isText = type == "text/plain" || type == "text/html"
        let isBody = isText && disposition != "attachment" && (filename == nil || (type == "text/plain" ? text == nil : html == nil))
        if isBody {
            let content = bytes(commlog_mime_part_content, object)
            // GMime hands text over as a C string, which ends at a NUL, and only for parts it knows as text: others
            // are read from their bytes.
            let readable = commlog_mime_is_text_part(object) != 0 && !content.contains(0)
            let decoded = !readable ? String(decoding: content, as: UTF8.self) : commlog_mime_text(object).map { pointer in
                defer { commlog_mime_free(pointer) }
                return String(cString: pointer)
            } ?? ""
            if type == "text/plain" {
                text = text.map { $0 + "\n" + decoded } ?? decoded
            } else if html == nil {
                html = decoded
            }
            return
        }
        let name = filename ?? "attachment-\(attachments.count + 1)"
        attachments.append(MailAttachment(name: name, contentType: type, content: bytes(commlog_mime_part_content, object),
                                          isEncrypted: false, isForwardedMessage: false))
    }

    private func mimeType(_ object: UnsafeMutablePointer<GMimeObject>) -> String {
        guard let pointer = commlog_mime_type(object) else { return "application/octet-stream" }
        defer { commlog_mime_free(pointer) }
        return String(cString: pointer)
    }

    private func bytes(
        _ read: (UnsafeMutablePointer<GMimeObject>?, UnsafeMutablePointer<Int>?) -> UnsafeMutablePointer<UInt8>?,
        _ object: UnsafeMutablePointer<GMimeObject>
    ) -> [UInt8] {
        var length = 0
        guard let pointer = read(object, &length) else { return [] }
        defer { commlog_mime_free(pointer) }
        return Array(UnsafeBufferPointer(start: pointer, count: length))
    }
}

/// Collects values through a C callback's context pointer.
private final class Collected<Item> {
    var items: [Item] = []
    var pointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
    static func from(_ pointer: UnsafeMutableRawPointer) -> Collected<Item> { Unmanaged<Collected<Item>>.fromOpaque(pointer).takeUnretainedValue() }
}
