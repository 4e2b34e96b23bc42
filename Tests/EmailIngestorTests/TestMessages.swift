import Foundation

/// Raw RFC 5322 messages for the tests, with CRLF line ends as IMAP carries them.
enum TestMessages {
    static func crlf(_ text: String) -> [UInt8] {
        Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    /// A plain message; `messageID` nil leaves the header out.
    static func simple(
        messageID: String? = "<\(UUID().uuidString.lowercased())@test.example>",
        from: String = "Ann Client <ann@example.org>",
        to: String = "Clinic <shared@example.org>",
        cc: String? = nil,
        subject: String = "Hello",
        body: String = "Bella is doing well.",
        date: String = "Wed, 25 Nov 2026 09:30:00 +0000"
    ) -> [UInt8] {
        var text = "From: \(from)\nTo: \(to)\n"
        if let cc { text += "Cc: \(cc)\n" }
        text += "Subject: \(subject)\nDate: \(date)\n"
        if let messageID { text += "Message-ID: \(messageID)\n" }
        text += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n\(body)\n"
        return crlf(text)
    }

    /// Quoted-printable ISO-8859-1 body, RFC 2047 subject (Q and B), names in other charsets.
    static let latin1QuotedPrintable: [UInt8] = {
        var bytes = crlf("""
        From: =?ISO-8859-1?Q?Ren=E9e_M=FCller?= <renee@example.org>
        To: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>
        Subject: =?ISO-8859-1?Q?Caf=E9_et_cr=E8me?= =?UTF-8?B?4oKsIDEw?=
        Date: Tue, 24 Nov 2026 08:00:00 +0100
        Message-ID: <latin1@test.example>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=ISO-8859-1
        Content-Transfer-Encoding: quoted-printable

        Gr=FC=DFe aus K=F6ln, tr=E8s bien.=
         Fin.

        """)
        return bytes
    }()

    /// A Shift_JIS body in base64 (the Japanese for "hello, the cat is well").
    static let shiftJISBase64: [UInt8] = {
        // "こんにちは、猫は元気です" in Shift_JIS
        let sjis: [UInt8] = [0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD, 0x81, 0x41, 0x94, 0x4C, 0x82, 0xCD,
                             0x8C, 0xB3, 0x8B, 0x43, 0x82, 0xC5, 0x82, 0xB7]
        let encoded = Data(sjis).base64EncodedString()
        return crlf("""
        From: taro@example.jp
        To: shared@example.org
        Subject: =?Shift_JIS?B?grGC8YLJgr+CzQ==?=
        Date: Tue, 24 Nov 2026 08:00:00 +0900
        Message-ID: <sjis@test.example>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=Shift_JIS
        Content-Transfer-Encoding: base64

        \(encoded)

        """)
    }()

    /// multipart/mixed ( multipart/alternative (text, html), a PDF with an RFC 2231 name, an image with an
    /// RFC 2047 name, a forwarded message ).
    static let nested: [UInt8] = crlf("""
        From: Clinic <shared@example.org>
        To: ann@example.org
        Cc: Bob Carer <BOB@Example.org>, vet@example.org
        Subject: Results
        Date: Mon, 23 Nov 2026 10:00:00 +0000
        Message-ID: <nested@test.example>
        In-Reply-To: <question@test.example>
        References: <first@test.example> <question@test.example>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: multipart/alternative; boundary="inner"

        --inner
        Content-Type: text/plain; charset=utf-8

        Plain results.
        --inner
        Content-Type: text/html; charset=utf-8

        <p>HTML <b>results</b>.</p>
        --inner--
        --outer
        Content-Type: application/pdf
        Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sultats%20%C3%A9t%C3%A9.pdf
        Content-Transfer-Encoding: base64

        JVBERi0xLjQKJcTl8uXr
        --outer
        Content-Type: image/png; name="=?UTF-8?Q?B=C3=A9lla.png?="
        Content-Disposition: attachment; filename="=?UTF-8?Q?B=C3=A9lla.png?="
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=
        --outer
        Content-Type: message/rfc822

        From: lab@example.net
        To: shared@example.org
        Subject: Lab report
        Message-ID: <lab@test.example>

        The lab report.
        --outer--

        """)

    /// HTML only: the text is the HTML converted.
    static let htmlOnly: [UInt8] = crlf("""
        From: ann@example.org
        To: shared@example.org
        Subject: HTML only
        Date: Mon, 23 Nov 2026 10:00:00 +0000
        Message-ID: <html@test.example>
        MIME-Version: 1.0
        Content-Type: text/html; charset=utf-8

        <html><body><p>Hello&nbsp;there</p><p>Second&amp;line</p></body></html>

        """)

    /// An S/MIME encrypted message.
    static let smime: [UInt8] = crlf("""
        From: ann@example.org
        To: shared@example.org
        Subject: Secret
        Date: Mon, 23 Nov 2026 10:00:00 +0000
        Message-ID: <smime@test.example>
        MIME-Version: 1.0
        Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m
        Content-Disposition: attachment; filename=smime.p7m
        Content-Transfer-Encoding: base64

        MIAGCSqGSIb3DQEHA6CAMIACAQAxggE=

        """)

    /// Not a message at all.
    static let malformed: [UInt8] = Array("\u{0}\u{1}garbage without any header\r\n\r\n".utf8)
}
