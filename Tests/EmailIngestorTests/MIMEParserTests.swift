import Foundation
import MIME
import Testing

@Suite("MIME parsing with GMime")
struct MIMEParserTests {
    @Test("headers: RFC 2047 names and subjects in ISO-8859-1 and UTF-8; quoted-printable Latin-1 body")
    func latin1() throws {
        let message = try MIMEParser.parse(TestMessages.latin1QuotedPrintable)
        #expect(message.subject == "Café et crème€ 10" || message.subject == "Café et crème € 10")
        #expect(message.from == [MailAddress(name: "Renée Müller", address: "renee@example.org")])
        #expect(message.to.first?.name == "山田太郎")
        #expect(message.messageID == "latin1@test.example")
        #expect(message.text?.contains("Grüße aus Köln, très bien.") == true)
        #expect(message.date == Date(timeIntervalSince1970: 1_795_503_600))
    }

    @Test("Shift_JIS: base64 body and RFC 2047 subject decoded to UTF-8")
    func shiftJIS() throws {
        let message = try MIMEParser.parse(TestMessages.shiftJISBase64)
        #expect(message.subject == "こんにちは")
        #expect(message.text?.contains("こんにちは、猫は元気です") == true)
    }

    @Test("nested multiparts: alternative text preferred, attachments with RFC 2231 and RFC 2047 names, forwarded message")
    func nested() throws {
        let message = try MIMEParser.parse(TestMessages.nested)
        #expect(message.text?.trimmingCharacters(in: .whitespacesAndNewlines) == "Plain results.")
        #expect(message.html?.contains("<b>results</b>") == true)
        #expect(message.cc.map(\.address) == ["BOB@Example.org", "vet@example.org"])
        #expect(message.inReplyTo == ["question@test.example"])
        #expect(message.references == ["first@test.example", "question@test.example"])
        let names = message.attachments.map(\.name)
        #expect(names == ["résultats été.pdf", "Bélla.png", "Lab report.eml"])
        #expect(message.attachments[0].contentType == "application/pdf")
        #expect(Array(message.attachments[0].content.prefix(5)) == Array("%PDF-".utf8))
        #expect(message.attachments[1].content.count == 8)
        #expect(message.attachments[2].isForwardedMessage)
        #expect(String(decoding: message.attachments[2].content, as: UTF8.self).contains("The lab report."))
    }

    @Test("HTML only: kept as HTML, the caller converts it")
    func htmlOnly() throws {
        let message = try MIMEParser.parse(TestMessages.htmlOnly)
        #expect(message.text == nil)
        #expect(message.html?.contains("Hello&nbsp;there") == true)
    }

    @Test("S/MIME: the encrypted part is kept raw and flagged")
    func smime() throws {
        let message = try MIMEParser.parse(TestMessages.smime)
        #expect(message.hasEncryptedPart)
        #expect(message.attachments.first?.contentType == "application/pkcs7-mime")
        #expect(message.text == nil)
    }

    @Test("no Message-ID: nil, not empty")
    func noMessageID() throws {
        let message = try MIMEParser.parse(TestMessages.simple(messageID: nil))
        #expect(message.messageID == nil)
        #expect(message.subject == "Hello")
    }

    @Test("bytes GMime cannot read as RFC 5322 are kept as the message's text; only an empty message is an error")
    func malformed() throws {
        let message = try MIMEParser.parse(TestMessages.malformed)
        #expect(message.text?.contains("garbage without any header") == true)
        #expect(message.subject == nil && message.from.isEmpty)
        #expect(throws: MIMEError.self) { try MIMEParser.parse([]) }
    }
}
