import Foundation

/// The mail of a practice's shared mailbox as mail clients write it, about 14 KB a message on average: one message per
/// index, the same on every run (its choices come from the index alone). Three in four have an HTML alternative
/// (Outlook's styles and signature table, or Gmail's divs and quote block), the others text only; one in six carries
/// a PDF (3 to 40 KB), one in eight a logo inline (multipart/related), one in sixteen a photo or two (15 to 40 KB
/// each). A third are replies that quote and name what they answer, a quarter copy another client, half are
/// quoted-printable, and names and subjects that are not ASCII are encoded words. Every message is from a client
/// (`client<n>@example.org`, 500 of them) to the practice.
struct PracticeMail {
    let tag: String

    /// What a message carries besides its text.
    private enum Extra {
        case none, pdf, logo, photos
    }

    private static let firstNames = ["Anna", "Ben", "Chloé", "David", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jack",
                                     "Zoë", "Liam", "Mia", "Noah", "Olivia", "Søren", "Ruby", "Sam", "José", "Björn"]
    private static let surnames = ["Smith", "Müller", "Brown", "Nguyen", "Peña", "Taylor", "Dvořák", "Wilson", "Østergaard",
                                   "Martin", "O'Brien", "Kowalski", "Lefèvre", "Patel", "Rossi", "Clarke", "Walsh", "Schäfer",
                                   "Hughes", "Kelly", "García", "Evans", "Novák", "Young", "Łukaszewicz"]
    private static let pets = ["Bella", "Max", "Luna", "Charlie", "Milo", "Coco", "Félix", "Nala", "Rocky", "Daisy", "Oscar", "Mía"]
    private static let subjects = ["Vaccination booster for %@", "%@'s medication – dosage question", "Appointment request: %@, next week",
                                   "Repeat prescription for %@", "Rückfrage zur Impfung von %@", "Cancelling Thursday's appointment",
                                   "%@ is limping again", "Ordonnance pour %@ — renouvellement", "Travel certificate for %@",
                                   "Diet food for %@?", "Dental check for %@", "Thank you!"]
    private static let documents: [(subject: String, file: String)] = [("Insurance claim form for %@", "Claim form %@.pdf"),
                                    ("Lab results for %@ (from the referral clinic)", "Laborbefund %@.pdf"),
                                    ("Invoice for %@ – paid by transfer", "Invoice %@.pdf"),
                                    ("%@'s vaccination record", "Impfpass_%@.pdf"),
                                    ("Referral letter for %@", "Lettre de référence – %@.pdf")]
    private static let photoSubjects = ["Photos of %@'s wound after surgery", "Is this rash normal? (%@)", "%@ – pictures as promised"]
    private static let sentences = [
        "%@ had the booster on Monday and has been a bit quiet since, but she is eating normally.",
        "Could we move the appointment to later in the afternoon? I only finish work at four.",
        "The tablets you gave us last time are nearly gone, so we would need another box.",
        "Should we keep the cone on over the weekend or can it come off once the stitches look dry?",
        "%@ is limping on the front left leg again, mostly in the morning after sleeping.",
        "I have attached the form from the insurance company; they need your stamp on the second page.",
        "We are travelling to France in July and were told %@ needs a rabies certificate.",
        "Thanks again to the nurse who stayed late on Friday – we really appreciated it.",
        "Is the diet food available at the front desk, or do we have to order it?",
        "She drinks a lot more water than usual and I wondered whether that is a side effect.",
        "My husband will bring %@ in, as I am away that week; he has the vaccination booklet.",
        "The wound is still a little red at the edge but there is no discharge.",
        "Grüße aus dem Urlaub – %@ ist wieder ganz munter und frisst gut.",
        "Merci pour votre aide, %@ va beaucoup mieux depuis le traitement.",
        "Can you tell me what the blood test last week showed? Nobody called us back yet.",
        "We paid the invoice by bank transfer this morning, reference as on the invoice.",
        "Please let me know whether you need anything else from us before the operation.",
        "He has been scratching his ears a lot and shaking his head since the weekend.",
    ]
    private static let clinicSentences = [
        "Thank you for your message; %@ is due for the annual booster at the end of the month.",
        "Dr Lee has looked at the results and everything is within the normal range.",
        "Please give one tablet twice a day with food and keep the dose until the box is finished.",
        "We have a free slot on Tuesday at 16:30 or Wednesday at 9:15, whichever suits you better.",
        "If the swelling gets worse or %@ stops eating, please call us straight away.",
        "The prescription is ready for collection at the front desk from tomorrow noon.",
    ]

    func message(_ index: Int) -> [UInt8] {
        var dice = Dice(index)
        let client = index % 500, pet = Self.pets[client % Self.pets.count]
        let extra: Extra = switch dice.below(100) {
        case ..<64: .none
        case ..<81: .pdf
        case ..<94: .logo
        default: .photos
        }
        let document = dice.pick(Self.documents)
        let subject = switch extra {
        case .pdf: document.subject
        case .photos: dice.pick(Self.photoSubjects)
        case .none, .logo: dice.pick(Self.subjects)
        }
        let reply = index > 0 && dice.below(3) == 0
        let outlook = dice.below(2) == 0
        let date = Date(timeIntervalSince1970: 1_767_600_000 + Double(index) * 2_700 + Double(dice.below(2_700)))
        let header = headers(index, client: client, subject: (reply ? "Re: " : "") + subject.replacingOccurrences(of: "%@", with: pet),
                             reply: reply, outlook: outlook, date: date, dice: &dice)

        var paragraphs = (0..<(1 + dice.below(5))).map { _ in
            (0..<(1 + dice.below(4))).map { _ in dice.pick(Self.sentences).replacingOccurrences(of: "%@", with: pet) }.joined(separator: " ")
        }
        paragraphs.insert(dice.pick(["Hi,", "Dear Dr Lee,", "Hello team,", "Good morning,", "Guten Tag,"]), at: 0)
        let closing = dice.pick(["Thanks,", "Kind regards,", "Best wishes,", "Many thanks,"])
        paragraphs.append(closing + "\n" + Self.name(client) + "\n+44 7700 900\(100 + client)")
        let quoted = !reply ? [] : (0..<(1 + dice.below(3))).map { _ in dice.pick(Self.clinicSentences).replacingOccurrences(of: "%@", with: pet) }
        let text = Self.plainText(paragraphs, quoting: quoted, date: date)
        let quotedPrintable = dice.below(2) == 0
        let logo = "image001.png@01DC\(String(index, radix: 16, uppercase: true))"
        var body = dice.below(10) < 3 && extra != .logo ? Self.textPart(text, quotedPrintable: quotedPrintable)
            : .multipart("alternative", boundary: dice.boundary(), [
                Self.textPart(text, quotedPrintable: quotedPrintable),
                Self.textPart(Self.html(paragraphs, quoting: quoted, outlook: outlook, table: dice.below(4) == 0, logo: extra == .logo ? logo : nil),
                              html: true, quotedPrintable: quotedPrintable),
            ])
        switch extra {
        case .none:
            break
        case .pdf:
            let pdf = Self.pdf(dice: &dice, size: 3_000 + dice.below(37_000))
            let name = document.file.replacingOccurrences(of: "%@", with: pet)
            body = .multipart("mixed", boundary: dice.boundary(), [body, Self.filePart("application/pdf", name: name, pdf)])
        case .logo:
            let png = Self.png(dice: &dice, size: 3_000 + dice.below(17_000))
            body = .multipart("related", boundary: dice.boundary(), [body, Self.filePart("image/png", name: "image001.png", png, contentID: logo)])
        case .photos:
            let photos = (0..<(dice.below(4) == 0 ? 2 : 1)).map { number in
                Self.filePart("image/jpeg", name: "IMG_\(4_000 + index + number).jpeg", Self.jpeg(dice: &dice, size: 15_000 + dice.below(25_000)))
            }
            body = .multipart("mixed", boundary: dice.boundary(), [body] + photos)
        }
        return Array((header.joined(separator: "\r\n") + "\r\n" + body.rendered).utf8)
    }

    /// The header section down to MIME-Version, with the trace, signature and mailer headers that real mail has.
    private func headers(_ index: Int, client: Int, subject: String, reply: Bool, outlook: Bool, date: Date, dice: inout Dice) -> [String] {
        let relay = 1 + dice.below(250)
        var headers = [
            "Return-Path: <client\(client)@example.org>",
            "Received: from mail\(relay).mx.example.net (mail\(relay).mx.example.net [203.0.113.\(relay)])",
            "\tby mx.example.org (Postfix) with ESMTPS id \(dice.hex(10).uppercased())",
            "\tfor <clinic@example.org>; \(Self.rfc5322(date))",
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail; t=\(Int(date.timeIntervalSince1970));",
            "\th=from:to:subject:date:message-id:mime-version:content-type;",
            "\tbh=\(Self.base64(dice.bytes(32)));",
            "\tb=\(Self.base64(dice.bytes(128)))",
            "From: \(Self.encodedWord(Self.name(client))) <client\(client)@example.org>",
            "To: Clinic <clinic@example.org>",
        ]
        if dice.below(4) == 0 {
            let other = (client + 1 + dice.below(499)) % 500
            headers.append("Cc: \(Self.encodedWord(Self.name(other))) <client\(other)@example.org>")
        }
        headers += ["Subject: \(Self.encodedWord(subject))", "Date: \(Self.rfc5322(date))", "Message-ID: <bench-\(tag)-\(index)@example.org>"]
        if reply {
            let earlier = (1...min(index, 3)).map { "<bench-\(tag)-\(index - $0)@example.org>" }
            headers += ["In-Reply-To: \(earlier[0])", "References: \(earlier.reversed().joined(separator: "\r\n "))"]
        }
        headers += outlook ? ["Thread-Index: \(Self.base64(dice.bytes(22)))", "X-Mailer: Microsoft Outlook 16.0", "Content-Language: en-gb"]
            : ["X-Gm-Message-State: \(Self.base64(dice.bytes(54)))", "X-Google-Smtp-Source: \(Self.base64(dice.bytes(48)))"]
        return headers + ["MIME-Version: 1.0"]
    }

    private static func name(_ client: Int) -> String {
        firstNames[client % firstNames.count] + " " + surnames[client / firstNames.count % surnames.count]
    }

    /// A MIME entity: a leaf with its headers and encoded body, or a multipart of entities.
    private indirect enum Part {
        case leaf(headers: [String], body: String)
        case multipart(String, boundary: String, [Part])

        var rendered: String {
            switch self {
            case let .leaf(headers, body):
                return headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n"
            case let .multipart(subtype, boundary, parts):
                return "Content-Type: multipart/\(subtype); boundary=\"\(boundary)\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n"
                    + parts.map { "--\(boundary)\r\n" + $0.rendered }.joined() + "--\(boundary)--\r\n"
            }
        }
    }

    private static func textPart(_ text: String, html: Bool = false, quotedPrintable: Bool) -> Part {
        let type = "Content-Type: text/\(html ? "html" : "plain"); charset=\"utf-8\""
        if quotedPrintable { return .leaf(headers: [type, "Content-Transfer-Encoding: quoted-printable"], body: Self.quotedPrintable(text)) }
        return .leaf(headers: [type, "Content-Transfer-Encoding: 8bit"], body: text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    private static func filePart(_ type: String, name: String, _ content: [UInt8], contentID: String? = nil) -> Part {
        let name = encodedWord(name)
        var headers = ["Content-Type: \(type); name=\"\(name)\"", "Content-Transfer-Encoding: base64"]
        if let contentID {
            headers += ["Content-ID: <\(contentID)>", "Content-Disposition: inline; filename=\"\(name)\""]
        } else {
            headers.append("Content-Disposition: attachment; filename=\"\(name)\"")
        }
        let lines: Data.Base64EncodingOptions = [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]
        return .leaf(headers: headers, body: Data(content).base64EncodedString(options: lines))
    }

    private static func plainText(_ paragraphs: [String], quoting quoted: [String], date: Date) -> String {
        var lines = paragraphs.map(wrapped)
        if !quoted.isEmpty {
            lines.append("On \(rfc5322(date.addingTimeInterval(-7_200))), Clinic <clinic@example.org> wrote:")
            lines.append(quoted.map { wrapped($0).split(separator: "\n").map { "> " + $0 }.joined(separator: "\n") }.joined(separator: "\n>\n"))
        }
        return lines.joined(separator: "\n\n") + "\n"
    }

    /// The HTML a mail client writes for the same text: Outlook's Word styles and signature table, or Gmail's
    /// plain divs and quote block; a table of details, and the logo by its Content-ID, in some.
    private static func html(_ paragraphs: [String], quoting quoted: [String], outlook: Bool, table: Bool, logo: String?) -> String {
        let paragraph = outlook
            ? #"<p class="MsoNormal"><span style="font-size:11.0pt;font-family:&quot;Calibri&quot;,sans-serif;color:#1F1F1F">%@<o:p></o:p></span></p>"#
            : #"<div style="font-family:arial,helvetica,sans-serif;font-size:small">%@</div><div><br></div>"#
        var body = paragraphs.map { paragraph.replacingOccurrences(of: "%@", with: escaped($0).replacingOccurrences(of: "\n", with: "<br>\n")) }
        if table {
            let rows = ["Patient", "Date of birth", "Microchip", "Insurance", "Policy number", "Preferred time"].map { label in
                #"<tr><td style="padding:4px 8px;border:1px solid #D9D9D9;background:#F2F2F2;font-weight:bold">\#(label)</td>"#
                    + #"<td style="padding:4px 8px;border:1px solid #D9D9D9">\#(label) details as on the form</td></tr>"#
            }
            body.append(#"<table cellspacing="0" cellpadding="0" border="0" style="border-collapse:collapse;font-size:10.0pt;font-family:Arial">"#
                        + "\n\(rows.joined(separator: "\n"))\n</table>")
        }
        if let logo {
            body.append(#"""
                <table border="0" cellpadding="0" style="border-collapse:collapse"><tr>
                <td style="padding:0 12px 0 0"><img width="120" height="48" style="width:1.25in;height:.5in" id="Picture_x0020_1" src="cid:\#(logo)" alt="logo"></td>
                <td style="border-left:solid #A6A6A6 1.0pt;padding:0 0 0 12px;font-size:9.0pt;color:#595959">Sent with care<br>
                Please consider the environment before printing this email.</td>
                </tr></table>
                """#)
        }
        if !quoted.isEmpty {
            let inner = quoted.map { "<div>\(escaped($0))</div>" }.joined(separator: "\n")
            body.append(outlook ? #"""
                <div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">
                <p class="MsoNormal"><b>From:</b> Clinic &lt;clinic@example.org&gt;<br><b>Sent:</b> earlier<br><b>Subject:</b> Your enquiry</p></div>
                \#(inner)
                """# : #"""
                <div class="gmail_quote"><div dir="ltr" class="gmail_attr">Clinic &lt;clinic@example.org&gt; wrote:<br></div>
                <blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">
                \#(inner)
                </blockquote></div>
                """#)
        }
        guard outlook else { return "<div dir=\"ltr\">\n\(body.joined(separator: "\n"))\n</div>\n" }
        return """
            <html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
            <head>
            <meta http-equiv="Content-Type" content="text/html; charset=utf-8">
            <meta name="Generator" content="Microsoft Word 15 (filtered medium)">
            <style><!--
            /* Font Definitions */
            @font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;}
            @font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}
            @font-face {font-family:Aptos; panose-1:2 11 0 4 2 2 2 2 2 4;}
            /* Style Definitions */
            p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif; mso-ligatures:standardcontextual; mso-fareast-language:EN-US;}
            a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}
            span.EmailStyle17 {mso-style-type:personal-compose; font-family:"Calibri",sans-serif; color:windowtext;}
            .MsoChpDefault {mso-style-type:export-only; font-size:10.0pt; mso-ligatures:none;}
            @page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}
            div.WordSection1 {page:WordSection1;}
            --></style><!--[if gte mso 9]><xml>
            <o:shapedefaults v:ext="edit" spidmax="1026" />
            </xml><![endif]--><!--[if gte mso 9]><xml>
            <o:shapelayout v:ext="edit">
            <o:idmap v:ext="edit" data="1" />
            </o:shapelayout></xml><![endif]-->
            </head>
            <body lang="EN-GB" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
            <div class="WordSection1">
            \(body.joined(separator: "\n<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n"))
            </div>
            </body>
            </html>

            """
    }

    /// A one-page PDF laid out as writers write it (catalog, pages, page, a compressed content stream, font, cross-reference
    /// table), of about `size` bytes.
    private static func pdf(dice: inout Dice, size: Int) -> [UInt8] {
        var document = Array("%PDF-1.7\n".utf8) + [0x25, 0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        let stream = dice.bytes(max(0, size - 900))
        let objects: [[UInt8]] = [
            Array("<< /Type /Catalog /Pages 2 0 R >>".utf8),
            Array("<< /Type /Pages /Kids [3 0 R] /Count 1 >>".utf8),
            Array("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".utf8),
            Array("<< /Length \(stream.count) /Filter /FlateDecode >>\nstream\n".utf8) + stream + Array("\nendstream".utf8),
            Array("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".utf8),
        ]
        for (number, object) in objects.enumerated() {
            offsets.append(document.count)
            document += Array("\(number + 1) 0 obj\n".utf8) + object + Array("\nendobj\n".utf8)
        }
        let table = document.count
        document += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { document += Array((String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n").utf8) }
        document += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(table)\n%%EOF\n".utf8)
        return document
    }

    /// A PNG's chunks (signature, header, compressed data, end) around bytes that look compressed; nothing here decodes
    /// the image, so the CRCs are left zero.
    private static func png(dice: inout Dice, size: Int) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init) + Array(type.utf8) + data + [0, 0, 0, 0]
        }
        let header = withUnsafeBytes(of: UInt32(120).bigEndian, Array.init) + withUnsafeBytes(of: UInt32(48).bigEndian, Array.init) + [8, 6, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", dice.bytes(size)) + chunk("IEND", [])
    }

    /// A JPEG's markers (start, JFIF, start of scan, end) around bytes that look entropy-coded.
    private static func jpeg(dice: inout Dice, size: Int) -> [UInt8] {
        let scan = dice.bytes(size).map { $0 == 0xFF ? 0xFE : $0 }
        return [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0x00, 0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00,
                0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00] + scan + [0xFF, 0xD9]
    }

    private static func wrapped(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var lines: [String] = [], current = ""
            for word in line.split(separator: " ") {
                if !current.isEmpty, current.count + word.count >= 72 { lines.append(current); current = "" }
                current += (current.isEmpty ? "" : " ") + word
            }
            return (lines + [current]).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// RFC 2045 quoted-printable, lines ending CRLF.
    private static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if number > 0 { output += [0x0D, 0x0A] }
            var width = 0
            for byte in line.utf8 {
                let piece: [UInt8] = byte == 0x3D || byte >= 0x7F || byte < 0x20 ? [0x3D, hex[Int(byte >> 4)], hex[Int(byte & 15)]] : [byte]
                if width + piece.count > 75 { output += [0x3D, 0x0D, 0x0A]; width = 0 }
                output += piece
                width += piece.count
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Text as an RFC 2047 encoded word when it is not ASCII, folded so that no word is longer than 75 characters.
    private static func encodedWord(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return text }
        var words: [String] = [], current = ""
        for character in text {
            if current.utf8.count + character.utf8.count > 45 { words.append(current); current = "" }
            current.append(character)
        }
        return (words + [current]).map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    private static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    private static func rfc5322(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London")!
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let offset = calendar.timeZone.secondsFromGMT(for: date) / 60
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[parts.weekday! - 1]), \(parts.day!) \(months[parts.month! - 1]) \(parts.year!) "
            + String(format: "%02d:%02d:%02d +%02d%02d", parts.hour!, parts.minute!, parts.second!, offset / 60, offset % 60)
    }
}

/// SplitMix64 seeded with the message's index: the choices of one message, the same on every run.
private struct Dice {
    private var state: UInt64

    init(_ index: Int) { state = UInt64(index) &* 0xD1B5_4A32_D192_ED03 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func pick<Item>(_ items: [Item]) -> Item { items[below(items.count)] }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { withUnsafeBytes(of: next()) { bytes += $0 } }
        return Array(bytes.prefix(count))
    }

    mutating func hex(_ count: Int) -> String { String(bytes(count).map { String(format: "%02x", $0) }.joined().prefix(count)) }

    mutating func boundary() -> String { pick(["----=_NextPart_000_", "00000000000", "Apple-Mail=_"]) + hex(24) }
}
