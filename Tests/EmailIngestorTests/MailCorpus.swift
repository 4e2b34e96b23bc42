import Foundation

/// Messages for each way real mail departs from the textbook, as mail clients still show them: built here, one
/// per class, and compared with a reference parser (`ReferenceParserTests`) and through a real import.
enum MailCorpus {
    static func crlf(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    /// The mailbox the import test configures: mail from it is outbound whatever folder it is in.
    static let mailboxAddress = "shared@example.org"

    /// Name, raw message.
    static let messages: [(name: String, raw: [UInt8])] = [
        ("body only, no header section", crlf("""
            Just a note left in the shared mailbox.
            Second line of it.

            """)),
        ("no From, To, Subject, Message-ID or Date", crlf("""
            X-Mailer: Scanner 3000
            MIME-Version: 1.0

            Scanned document attached to nothing.

            """)),
        ("a header section that ends without a blank line", crlf("""
            From: Ann Client <ann@example.org>
            To: shared@example.org
            Subject: Missing blank line
            Date: Tue, 24 Nov 2026 09:30:00 +1100
            Message-ID: <no-blank@corpus.example>
            Hello, this first line is the body.
            And this one too.

            """)),
        ("a single inline text part with a file name", crlf("""
            From: Bob <bob@example.org>
            To: shared@example.org
            Subject: Inline named body
            Date: Tue, 24 Nov 2026 10:00:00 +1100
            Message-ID: <inline-named@corpus.example>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8; name="body.txt"
            Content-Disposition: inline; filename="body.txt"

            The body sent as an inline file.

            """)),
        ("multipart with an inline named text body and a PDF", crlf("""
            From: Carol <carol@example.org>
            To: shared@example.org
            Cc: Dr Lee <lee@clinic.example>
            Subject: Results attached
            Date: Tue, 24 Nov 2026 11:00:00 +1100
            Message-ID: <inline-multipart@corpus.example>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            --b1
            Content-Type: text/plain; charset=us-ascii; name="message.txt"
            Content-Disposition: inline; filename="message.txt"

            Please find the results attached.
            --b1
            Content-Type: application/pdf; name="results.pdf"
            Content-Disposition: attachment; filename="results.pdf"
            Content-Transfer-Encoding: base64

            JVBERi0xLjQK
            --b1--

            """)),
        ("a MIME part whose headers run into its text", crlf("""
            From: Dan <dan@example.org>
            To: shared@example.org
            Subject: Part without blank line
            Date: Tue, 24 Nov 2026 12:00:00 +1100
            Message-ID: <part-no-blank@corpus.example>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b2"

            --b2
            Content-Type: text/plain; charset=us-ascii
            The text of the part starts here.
            --b2--

            """)),
        ("addresses that are not local@domain", crlf("""
            From: Eve <eve@example.org>
            To: foo, undisclosed-recipients:;
            Subject: Odd recipients
            Date: Tue, 24 Nov 2026 13:00:00 +1100
            Message-ID: <odd-recipients@corpus.example>

            Sent to odd recipients.

            """)),
        ("sent from the mailbox's own address", crlf("""
            From: Shared Mailbox <Shared@Example.org>
            To: Ann Client <ann@example.org>
            Subject: Your appointment
            Date: Tue, 24 Nov 2026 14:00:00 +1100
            Message-ID: <own-address@corpus.example>

            See you on Friday.

            """)),
        ("an ordinary message with an encoded subject and a cc", crlf("""
            From: =?utf-8?q?Ren=C3=A9e?= <renee@example.org>
            To: shared@example.org
            Cc: a@example.org, b@example.org
            Subject: =?utf-8?q?Caf=C3=A9_=C3=A0_9h?=
            Date: Tue, 24 Nov 2026 15:00:00 +1100
            Message-ID: <ordinary@corpus.example>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 8bit

            Bonjour, à demain.

            """)),
    ]

    /// CPython's own test messages for its email package (`test/test_email/data/msg_*.txt`, shipped with the
    /// interpreter on these machines): real-world material nobody here wrote.
    static func cpythonCorpus() async throws -> [URL] {
        let output = try await ReferenceParserTests.python(["-c", "import os, test.test_email as t; print(os.path.join(os.path.dirname(t.__file__), 'data'))"])
        let folder = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("msg_") && $0.hasSuffix(".txt") }.sorted()
        return names.map { URL(fileURLWithPath: folder).appendingPathComponent($0) }
    }
}
