import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SwiftASN1
import X509

/// Who may vouch for an IMAP server's certificate: the system's trust roots, and any certificate
/// authorities an operator adds (a practice's own mail server with a private CA).
///
/// libetpan encrypts but never checks the certificate, so without this a man in the middle would receive
/// the mailbox's password. The chain must lead to a trusted root, be valid now, and name the host the
/// mailbox is configured with (a DNS name, or an IP address in the certificate's IP entries).
public struct IMAPTrust: Sendable {
    let roots: CertificateStore

    /// The system's trust roots (`/etc/ssl/certs/ca-certificates.crt` on Debian).
    public static let system = IMAPTrust(roots: .systemTrustRoots)

    init(roots: CertificateStore) {
        self.roots = roots
    }

    /// The system's trust roots and the certificates of a PEM file.
    public init(addingPEMFile path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw IMAPTrustError(description: "cannot read \(path): \(error.localizedDescription)")
        }
        let certificates: [Certificate]
        do {
            certificates = try PEMDocument.parseMultiple(pemString: text).map { try Certificate(pemDocument: $0) }
        } catch {
            throw IMAPTrustError(description: "\(path) is not a PEM file of certificates: \(error)")
        }
        guard !certificates.isEmpty else { throw IMAPTrustError(description: "\(path) holds no certificate") }
        roots = CertificateStore.systemTrustRoots.appending(contentsOf: certificates)
    }

    /// Throws unless `chain` (leaf first, DER, as the server sent it) is trusted for `host` now.
    func verify(_ chain: [[UInt8]], host: String) async throws {
        guard let first = chain.first else { throw Self.refused(host, "the server presented no certificate") }
        let leaf: Certificate
        let intermediates: [Certificate]
        do {
            leaf = try Certificate(derEncoded: first)
            intermediates = try chain.dropFirst().map { try Certificate(derEncoded: $0) }
        } catch {
            throw Self.refused(host, "its certificate cannot be read (\(error))")
        }
        let isAddress = Self.isIPAddress(host)
        var verifier = Verifier(rootCertificates: roots) {
            RFC5280Policy(validationTime: Date())
            ServerIdentityPolicy(serverHostname: isAddress ? nil : host, serverIP: isAddress ? host : nil)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate:
            return
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }
            throw Self.refused(host, reasons.isEmpty ? "no chain to a trusted root" : reasons.joined(separator: "; "))
        }
    }

    private static func refused(_ host: String, _ reason: String) -> IMAPError {
        IMAPError(.connect, "verify the certificate of \(host)", response: "not trusted: \(reason)")
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// A trust configuration that cannot be used.
public struct IMAPTrustError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
