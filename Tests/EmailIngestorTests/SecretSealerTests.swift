import CommlogRuntime
import Crypto
import Foundation
import Testing

@Suite("Mailbox secrets")
struct SecretSealerTests {
    @Test("seal and open; the ciphertext does not contain the secret; rotation opens old secrets")
    func rotation() throws {
        let old = SymmetricKey(size: .bits256), new = SymmetricKey(size: .bits256)
        let before = SecretSealer(current: old)
        let sealed = try before.seal("shared-secret")
        #expect(!String(decoding: sealed.ciphertext, as: UTF8.self).contains("shared-secret"))
        #expect(try before.open(sealed.ciphertext, keyID: sealed.keyID) == "shared-secret")

        let after = SecretSealer(current: new, previous: [old])
        #expect(after.needsReseal(keyID: sealed.keyID))
        #expect(try after.open(sealed.ciphertext, keyID: sealed.keyID) == "shared-secret")
        #expect(throws: SecretSealerError.self) { try SecretSealer(current: new).open(sealed.ciphertext, keyID: sealed.keyID) }
        var tampered = sealed.ciphertext
        tampered[tampered.count - 1] ^= 1
        #expect(throws: SecretSealerError.self) { try before.open(tampered, keyID: sealed.keyID) }
    }
}
