import Foundation
import Hummingbird

/// The web page's session: the staff token itself, kept by the browser in an HttpOnly cookie so that the page
/// (and `EventSource`, which cannot send an Authorization header) is signed in without the token reaching a
/// script, a URL or a server log.
///
/// The practice software opens `/launch#token=…`: the fragment never leaves the browser, the launch page posts
/// the token to `POST /session`, and the answer sets the cookie, ending when the token does.
enum WebSession {
    static let cookieName = "commlog_session"

    /// The session's token, if the request carries the cookie.
    static func token(in request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, !value.isEmpty else { return nil }
        return value
    }

    /// The `Set-Cookie` value that signs the browser in until `expires`.
    ///
    /// SameSite=Lax keeps it off cross-site subrequests and forms; a page framed by the practice software
    /// (`COMMLOG_UI_FRAME_ANCESTORS`) on another site needs SameSite=None, which browsers accept only with
    /// Secure, so that is used only over HTTPS. Writes are checked against their origin either way.
    static func cookie(token: String, expires: Date, secure: Bool, framed: Bool) -> String {
        var attributes = "\(cookieName)=\(token); Path=/; Expires=\(httpDate(expires)); HttpOnly"
        if secure { attributes += "; Secure" }
        attributes += framed && secure ? "; SameSite=None" : "; SameSite=Lax"
        return attributes
    }

    /// The `Set-Cookie` value that signs the browser out.
    static func ending(secure: Bool) -> String {
        var attributes = "\(cookieName)=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax"
        if secure { attributes += "; Secure" }
        return attributes
    }

    /// Whether the request reached the server over HTTPS, directly or through a proxy that says so.
    static func isSecure(_ request: Request) -> Bool {
        request.head.scheme == "https" || request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// Whether a request that changes something comes from a page of this server: its `Origin` names the host
    /// it was sent to. Browsers send `Origin` with every POST, PATCH and DELETE; without one, the request
    /// counts as same-origin only if the browser says so in `Sec-Fetch-Site`.
    static func isSameOrigin(_ request: Request) -> Bool {
        // Behind a proxy, the host the browser used (a cross-site page cannot set this header: it is not CORS-safelisted).
        let forwarded = request.headers[.init("X-Forwarded-Host")!]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let host = forwarded ?? request.head.authority else { return false }
        guard let origin = request.headers[.origin] else {
            return request.headers[.init("Sec-Fetch-Site")!] == "same-origin"
        }
        guard let url = URL(string: origin), let scheme = url.scheme, scheme == "http" || scheme == "https", let originHost = url.host else {
            return false
        }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    private static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
