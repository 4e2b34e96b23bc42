import Crypto
import Foundation

/// Twilio's `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the account's auth token, over the URL Twilio
/// requested followed by every form field's name and value, sorted by name (and, for a name given more than
/// once, by value).
enum TwilioSignature {
    static let header = "X-Twilio-Signature"

    static func compute(token: String, url: String, fields: [(name: String, value: String)]) -> String {
        var signed = url
        for name in Set(fields.map(\.name)).sorted() {
            for value in Set(fields.filter { $0.name == name }.map(\.value)).sorted() { signed += name + value }
        }
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Whether `signature` signs the fields for one of the URLs (compared in constant time).
    static func isValid(_ signature: String, token: String, urls: [String], fields: [(name: String, value: String)]) -> Bool {
        let given = Array(signature.utf8)
        var valid = false
        for url in urls {
            let expected = Array(compute(token: token, url: url, fields: fields).utf8)
            guard expected.count == given.count else { continue }
            var difference: UInt8 = 0
            for (left, right) in zip(expected, given) { difference |= left ^ right }
            valid = valid || difference == 0
        }
        return valid
    }

    /// The URL Twilio requested, from the configured public base (`https://call-bridge.example.org`) or else the
    /// request's `Host` and `X-Forwarded-Proto`; also without its port and with the scheme's default port, as
    /// Twilio's own validator tries (a proxy may add or drop it).
    static func candidateURLs(base: String?, host: String?, forwardedProto: String?, pathAndQuery: String) -> [String] {
        let root: String
        if let base, !base.isEmpty {
            root = base.hasSuffix("/") ? String(base.dropLast()) : base
        } else {
            guard let host, !host.isEmpty else { return [] }
            root = "\(forwardedProto?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "http")://\(host)"
        }
        let url = root + pathAndQuery
        guard var components = URLComponents(string: url) else { return [url] }
        var urls = [url]
        if components.port != nil {
            components.port = nil
            if let string = components.string { urls.append(string) }
        } else {
            components.port = components.scheme == "https" ? 443 : 80
            if let string = components.string { urls.append(string) }
        }
        return urls
    }
}
