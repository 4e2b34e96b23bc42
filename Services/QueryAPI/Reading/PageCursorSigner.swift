import Crypto
import Foundation
import Logging
import PostgresNIO
import Storage
import Synchronization

/// Signs page cursors with the `page-cursor` key of `service_keys` (migration 0012), which every replica shares:
/// HMAC-SHA256, 128 bits of it, as hex. The key is read once, at the first page that needs it.
final class PageCursorSigner: Sendable {
    private let load: @Sendable () async throws -> SymmetricKey
    private let key = Mutex<SymmetricKey?>(nil)

    init(database: Database) {
        load = { try await Self.storedKey(in: database) }
    }

    /// A signer with a key of its own (tests).
    init(key: SymmetricKey) {
        load = { key }
    }

    func signature(of text: String) async throws -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: try await currentKey())
        return mac.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Compared in constant time.
    func isValid(_ signature: String, for text: String) async throws -> Bool {
        let expected = try await self.signature(of: text)
        guard signature.utf8.count == expected.utf8.count else { return false }
        return zip(signature.utf8, expected.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private func currentKey() async throws -> SymmetricKey {
        if let key = key.withLock({ $0 }) { return key }
        let loaded = try await load()
        key.withLock { $0 = loaded }
        return loaded
    }

    private static func storedKey(in database: Database) async throws -> SymmetricKey {
        var stored: Data?
        for try await bytes in try await database.client.query(
            "SELECT key FROM service_keys WHERE purpose = 'page-cursor'", logger: database.logger
        ).decode(Data.self) {
            stored = bytes
        }
        guard let stored else { throw PageCursorSignerError.noKey }
        return SymmetricKey(data: stored)
    }
}

enum PageCursorSignerError: Error, CustomStringConvertible {
    case noKey
    var description: String { "service_keys has no page-cursor key: run commlog migrate" }
}
