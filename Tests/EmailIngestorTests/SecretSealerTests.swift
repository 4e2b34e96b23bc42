import CommlogRuntime
import Crypto
import Foundation
import Testing

@Suite("Mailbox secrets")
struct SecretSealerTests {
    static let mailbox = SecretSealer.Context.mailbox(organisation: "org-1", id: UUID())

    @Test("seal and open; the ciphertext does not contain the secret; rotation opens old secrets")
    func rotation() throws {
        let old = SymmetricKey(size: .bits256), new = SymmetricKey(size: .bits256)
        let before = SecretSealer(current: old)
        let sealed = try before.seal("shared-secret", for: Self.mailbox)
        #expect(!String(decoding: sealed.ciphertext, as: UTF8.self).contains("shared-secret"))
        let opened = try before.open(sealed.ciphertext, keyID: sealed.keyID, for: Self.mailbox)
        #expect(opened.secret == "shared-secret" && !opened.needsReseal)

        let after = SecretSealer(current: new, previous: [old])
        #expect(after.needsReseal(keyID: sealed.keyID))
        let rotated = try after.open(sealed.ciphertext, keyID: sealed.keyID, for: Self.mailbox)
        #expect(rotated.secret == "shared-secret" && rotated.needsReseal)
        #expect(throws: SecretSealerError.self) { try SecretSealer(current: new).open(sealed.ciphertext, keyID: sealed.keyID, for: Self.mailbox) }
        var tampered = sealed.ciphertext
        tampered[tampered.count - 1] ^= 1
        #expect(throws: SecretSealerError.self) { try before.open(tampered, keyID: sealed.keyID, for: Self.mailbox) }
    }

    @Test("a secret is bound to its mailbox: moved to another mailbox or organisation it does not open")
    func bound() throws {
        let sealer = SecretSealer(current: SymmetricKey(size: .bits256))
        let id = UUID()
        let sealed = try sealer.seal("pw", for: .mailbox(organisation: "org-1", id: id))
        #expect(throws: SecretSealerError.self) { try sealer.open(sealed.ciphertext, keyID: sealed.keyID, for: .mailbox(organisation: "org-1", id: UUID())) }
        #expect(throws: SecretSealerError.self) { try sealer.open(sealed.ciphertext, keyID: sealed.keyID, for: .mailbox(organisation: "org-2", id: id)) }
        #expect(throws: SecretSealerError.self) { try sealer.open(sealed.ciphertext, keyID: sealed.keyID, for: .callIntegration(organisation: "org-1", id: id)) }
        #expect(try sealer.open(sealed.ciphertext, keyID: sealed.keyID, for: .mailbox(organisation: "org-1", id: id)).secret == "pw")
    }

    @Test("a secret sealed before secrets were bound still opens, once, and asks to be sealed again")
    func unboundOpensAndAsksForReseal() throws {
        let key = SymmetricKey(size: .bits256)
        let legacy = Array(try AES.GCM.seal(Data("old-pw".utf8), using: key).combined!)
        let sealer = SecretSealer(current: key)
        let opened = try sealer.open(legacy, keyID: sealer.currentKeyID, for: Self.mailbox)
        #expect(opened.secret == "old-pw")
        #expect(opened.needsReseal)
    }
}
