import Testing

@testable import LogStore

/// Email addresses as the directory stores them and the matcher looks them up.
@Suite struct ContactAddressTests {
    @Test(arguments: [
        ("ann@example.org", "ann@example.org"),
        ("  Ann@Example.ORG \r\n", "ann@example.org"),
        ("\u{00A0}\u{2003}\tvet@example.org\u{3000}", "vet@example.org"),
        ("Ann Smith <ANN@example.org>", "ann@example.org"),
        (" \"Smith, Ann\" <ann@example.org> ", "ann@example.org"),
    ])
    func emails(raw: String, expected: String) {
        #expect(ContactAddress.email(raw) == expected)
    }

    @Test(arguments: ["", "   ", "\n\t", "no address", "Ann Smith <nobody>"])
    func notEmails(raw: String) {
        #expect(ContactAddress.email(raw) == nil)
    }
}
