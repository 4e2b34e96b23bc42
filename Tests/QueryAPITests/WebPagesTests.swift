import AsyncHTTPClient
import CommlogDomain
import CommlogRuntime
import Foundation
import NIOCore
import NIOHTTP1
import PostgresNIO
@testable import QueryAPI
import Storage
import Testing
import TestSupport

/// The web page over HTTP, without a browser (the browser tests in Tests/Browser drive it in Chromium): the
/// session cookie's attributes and where it is accepted, the origin check of writes made with it, the headers of
/// the screens and assets, and the screens' answers to what they cannot show.
@Suite("query-api: web page")
struct WebPagesTests {
    /// One HTTP exchange as it is, redirects not followed.
    struct Exchange {
        let status: Int
        let headers: HTTPHeaders
        let body: String
    }

    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static func exchange(_ api: QueryAPIHarness, _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil) async throws -> Exchange {
        var request = HTTPClientRequest(url: "http://localhost:\(api.port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 4 << 20)
        return Exchange(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    static func form(_ fields: [String: String]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return fields.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    }

    /// Signs in as the launch page does; returns the `Set-Cookie` value.
    static func signIn(_ api: QueryAPIHarness, token: String, extraHeaders: [(String, String)] = []) async throws -> String {
        let answer = try await exchange(api, .POST, "/session", headers: [
            ("Origin", "http://localhost:\(api.port)"), ("Content-Type", "application/x-www-form-urlencoded"),
        ] + extraHeaders, body: form(["token": token, "to": "/"]))
        try #require(answer.status == 303, "\(answer.body)")
        return try #require(answer.headers.first(name: "set-cookie"))
    }

    static func cookie(_ setCookie: String) -> (String, String) {
        ("Cookie", String(setCookie.prefix { $0 != ";" }))
    }

    @Test("POST /session turns the launch page's token into an HttpOnly, SameSite cookie ending with the token, and goes to a path of this server only")
    func signingIn() async throws {
        let api = try await QueryAPIHarness()
        defer { Task { await api.stop() } }
        let expires = Date().addingTimeInterval(1800)
        let token = try await api.token("s-1", [.staff], expires: expires)
        let origin = ("Origin", "http://localhost:\(api.port)")
        let formType = ("Content-Type", "application/x-www-form-urlencoded")

        let answer = try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: Self.form(["token": token, "to": "/clients/c-1?type=note"]))
        #expect(answer.status == 303)
        #expect(answer.headers.first(name: "location") == "/clients/c-1?type=note")
        let cookie = try #require(answer.headers.first(name: "set-cookie"))
        #expect(cookie.hasPrefix("commlog_session=\(token);"))
        for attribute in ["Path=/", "HttpOnly", "SameSite=Lax"] { #expect(cookie.contains(attribute), "\(cookie)") }
        #expect(!cookie.contains("Secure"))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm"
        #expect(cookie.contains("Expires=\(formatter.string(from: expires))"), "\(cookie)")

        // Behind an HTTPS proxy the cookie is Secure.
        let secure = try await Self.signIn(api, token: token, extraHeaders: [("X-Forwarded-Proto", "https")])
        #expect(secure.contains("; Secure"))

        // Anywhere but a path of this server is refused as a destination.
        for to in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"] {
            let answer = try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: Self.form(["token": token, "to": to]))
            #expect(answer.headers.first(name: "location") == "/", "\(to)")
        }

        // A token that does not verify signs no one in.
        let forged = try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: Self.form(["token": token + "x"]))
        #expect(forged.status == 401)
        #expect(forged.headers.first(name: "set-cookie") == nil)
        #expect(forged.body.contains("cannot be used"))
        let expired = try await api.token("s-1", [.staff], expires: Date().addingTimeInterval(-600))
        #expect(try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: Self.form(["token": expired])).status == 401)
        #expect(try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: "to=/").status == 400)
        // Hostile bodies: too large is a 413 problem, bytes that are no form are no token.
        let huge = try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: "token=" + String(repeating: "a", count: 70_000))
        #expect(huge.status == 413)
        #expect(huge.headers.first(name: "set-cookie") == nil)
        #expect(try await Self.exchange(api, .POST, "/session", headers: [origin, formType], body: "token=%ZZ%00&&=").status == 400)

        // Only from the launch page: another origin, or none at all, is refused.
        for headers in [[("Origin", "http://localhost:1"), formType], [("Origin", "null"), formType], [formType]] {
            let refused = try await Self.exchange(api, .POST, "/session", headers: headers, body: Self.form(["token": token]))
            #expect(refused.status == 403, "\(headers)")
            #expect(refused.headers.first(name: "set-cookie") == nil)
        }
        // A browser that sends no Origin but says the request is its own is believed.
        let fetchSite = try await Self.exchange(api, .POST, "/session", headers: [("Sec-Fetch-Site", "same-origin"), formType], body: Self.form(["token": token]))
        #expect(fetchSite.status == 303)

        let ended = try await Self.exchange(api, .POST, "/session/end", headers: [origin, Self.cookie(cookie)])
        #expect(ended.status == 303)
        #expect(ended.headers.first(name: "location") == "/signed-out")
        #expect(ended.headers.first(name: "set-cookie")?.contains("Max-Age=0") == true)
    }

    @Test("the session cookie authenticates the API and the live stream; a write made with it must come from the page's own origin")
    func cookieOnTheAPI() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            defer { Task { await api.stop() } }
            try await database.withTenant(api.organisationID) { connection in
                try await connection.query("INSERT INTO clients (organisation_id, id, name) VALUES (\(api.organisationID), 'c-1', 'Ann Smith')", logger: database.logger)
            }
            let token = try await api.token("s-1", [.manager])
            let session = Self.cookie(try await Self.signIn(api, token: token))
            let json = ("Content-Type", "application/json")
            let note = #"{"type": "note", "client_id": "c-1", "subject": "From the page"}"#

            #expect(try await Self.exchange(api, .GET, "/v1/calls/open", headers: [session]).status == 200)
            #expect(try await Self.exchange(api, .GET, "/v1/calls/open").status == 401)
            // A cookie that is no token: 401 on the API, the sign-in page on a screen, never a 5xx.
            for garbage in ["commlog_session=x", "commlog_session=\(token.dropLast(3))", "commlog_session=%00%ff"] {
                #expect(try await Self.exchange(api, .GET, "/v1/calls/open", headers: [("Cookie", garbage)]).status == 401, "\(garbage)")
                #expect(try await Self.exchange(api, .GET, "/clients/c-1", headers: [("Cookie", garbage)]).status == 401, "\(garbage)")
            }

            let withoutOrigin = try await Self.exchange(api, .POST, "/v1/communications", headers: [session, json], body: note)
            #expect(withoutOrigin.status == 403)
            #expect(withoutOrigin.body.contains("must come from the page itself"))
            let otherOrigin = try await Self.exchange(api, .POST, "/v1/communications", headers: [session, json, ("Origin", "http://127.0.0.1:\(api.port)")], body: note)
            #expect(otherOrigin.status == 403, "localhost and 127.0.0.1 are different origins")
            let created = try await Self.exchange(api, .POST, "/v1/communications", headers: [session, json, ("Origin", "http://localhost:\(api.port)")], body: note)
            #expect(created.status == 201, "\(created.body)")
            // A bearer token is not sent by a browser on its own: no origin needed.
            let bearer = try await Self.exchange(api, .POST, "/v1/communications", headers: [("Authorization", "Bearer \(token)"), json], body: note)
            #expect(bearer.status == 201)
            // Behind a proxy, the host the browser used.
            let proxied = try await Self.exchange(api, .POST, "/v1/communications", headers: [
                session, json, ("Origin", "https://commlog.example.org"), ("X-Forwarded-Host", "commlog.example.org"),
            ], body: note)
            #expect(proxied.status == 201)

            // An expired session is no session.
            let expired = Self.cookie(try await Self.signIn(api, token: try await api.token("s-1", [.manager], expires: Date().addingTimeInterval(2))))
            try await Task.sleep(for: .seconds(3))
            let refused = try await Self.exchange(api, .GET, "/v1/calls/open", headers: [expired])
            #expect(refused.status == 401)
            #expect(refused.body.contains("expired"))
            #expect(try await Self.exchange(api, .GET, "/board", headers: [expired]).body.contains("Not signed in"))

            // The live stream takes the cookie (EventSource cannot send a header).
            var request = HTTPClientRequest(url: "http://localhost:\(api.port)/v1/live")
            request.headers.add(name: session.0, value: session.1)
            let live = try await Self.client.execute(request, timeout: .seconds(10))
            #expect(live.status == .ok)
            #expect(live.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
        }
    }

    @Test("screens are HTML with a script-only-from-self policy, never cached, not framed unless configured; without a session they say how to open Commlog")
    func screenHeaders() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            defer { Task { await api.stop() } }
            try await database.withTenant(api.organisationID) { connection in
                for statement: PostgresQuery in [
                    "INSERT INTO organisations (id, name, timezone) VALUES (\(api.organisationID), 'Riverside', 'Australia/Sydney')",
                    "INSERT INTO staff (organisation_id, id, name, roles) VALUES (\(api.organisationID), 's-1', 'Dr Lee', '{manager}')",
                    "INSERT INTO clients (organisation_id, id, name) VALUES (\(api.organisationID), 'c-1', '<script>alert(1)</script> Smith')",
                ] {
                    try await connection.query(statement, logger: database.logger)
                }
            }
            let session = Self.cookie(try await Self.signIn(api, token: try await api.token("s-1", [.manager])))
            let page = try await Self.exchange(api, .GET, "/clients/c-1", headers: [session])
            #expect(page.status == 200)
            #expect(page.headers.first(name: "content-type") == "text/html; charset=utf-8")
            #expect(page.headers.first(name: "cache-control") == "no-store")
            #expect(page.headers.first(name: "x-content-type-options") == "nosniff")
            let policy = try #require(page.headers.first(name: "content-security-policy"))
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"), "\(policy)")
            // Names are text, never markup.
            #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; Smith"))
            #expect(!page.body.contains("<script>alert"))
            #expect(page.body.contains("data-time-zone=\"Australia/Sydney\""))
            #expect(page.body.contains("Riverside") && page.body.contains("Dr Lee"))

            let signedOut = try await Self.exchange(api, .GET, "/clients/c-1")
            #expect(signedOut.status == 401)
            #expect(signedOut.body.contains("Open Commlog from your practice software"))
            let home = try await Self.exchange(api, .GET, "/", headers: [session])
            #expect(home.status == 303 && home.headers.first(name: "location") == "/board")

            let framed = try await QueryAPIHarness(environment: ["COMMLOG_UI_FRAME_ANCESTORS": "https://pms.example.org https://pms2.example.org:8443"])
            defer { Task { await framed.stop() } }
            let launch = try await Self.exchange(framed, .GET, "/launch")
            #expect(launch.headers.first(name: "content-security-policy")?.contains("frame-ancestors https://pms.example.org https://pms2.example.org:8443") == true)
            // Framed by another site, the cookie must cross sites: SameSite=None, which needs HTTPS.
            let crossSite = try await Self.signIn(framed, token: try await framed.token("s-1", [.staff]), extraHeaders: [("X-Forwarded-Proto", "https")])
            #expect(crossSite.contains("SameSite=None") && crossSite.contains("Secure"))
            let plain = try await Self.signIn(framed, token: try await framed.token("s-1", [.staff]))
            #expect(plain.contains("SameSite=Lax"))
        }
    }

    @Test("a screen that cannot be shown says why, with a 4xx: unknown record, wrong filter, the board or settings for staff")
    func screenRefusals() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            defer { Task { await api.stop() } }
            try await database.withTenant(api.organisationID) { connection in
                try await connection.query("INSERT INTO clients (organisation_id, id, name) VALUES (\(api.organisationID), 'c-1', 'Ann Smith')", logger: database.logger)
            }
            let staff = Self.cookie(try await Self.signIn(api, token: try await api.token("s-2", [.staff])))
            for (path, status, says) in [
                ("/clients/c-404", 404, "no such record"),
                ("/patients/p-404", 404, "no such record"),
                ("/staff/s-404", 404, "no such record"),
                ("/patients/p-404/print", 404, "no such patient"),
                ("/clients/c-1?type=fax", 400, "type: no such value"),
                ("/clients/c-1?from=2026-02-30", 400, "from: not a date"),
                ("/clients/c-1?q=%00", 400, "at most 200 characters of text"),
                ("/clients/c-1?q=" + String(repeating: "a", count: 201), 400, "at most 200 characters"),
                ("/board", 403, "for managers and admins"),
                ("/settings", 403, "for admins"),
            ] {
                let answer = try await Self.exchange(api, .GET, path, headers: [staff])
                #expect(answer.status == status, "\(path): \(answer.status)")
                #expect(answer.body.contains(says), "\(path)")
                #expect(answer.headers.first(name: "content-type") == "text/html; charset=utf-8", "\(path)")
            }
            let home = try await Self.exchange(api, .GET, "/", headers: [staff])
            #expect(home.headers.first(name: "location") == "/staff/s-2")
            let fine = try await Self.exchange(api, .GET, "/clients/c-1?type=note&from=2026-01-01&to=2026-12-31&q=booster", headers: [staff])
            #expect(fine.status == 200)
            #expect(fine.body.contains("No communications match these filters"))
        }
    }

    @Test("the stylesheet and scripts are served with validators (304 when unchanged) and never sniffed; nothing outside the assets folder")
    func assets() async throws {
        let api = try await QueryAPIHarness()
        defer { Task { await api.stop() } }
        let script = try await Self.exchange(api, .GET, "/assets/app.js")
        #expect(script.status == 200)
        #expect(script.headers.first(name: "content-type")?.contains("javascript") == true)
        #expect(script.headers.first(name: "x-content-type-options") == "nosniff")
        #expect(script.headers.first(name: "cache-control") == "no-cache")
        let etag = try #require(script.headers.first(name: "etag"))
        #expect(try await Self.exchange(api, .GET, "/assets/app.js", headers: [("If-None-Match", etag)]).status == 304)
        #expect(try await Self.exchange(api, .GET, "/assets/commlog.css").headers.first(name: "content-type")?.hasPrefix("text/css") == true)
        for path in ["/assets/../openapi.yaml", "/assets/%2e%2e/openapi.yaml", "/assets/missing.js", "/assets/"] {
            let answer = try await Self.exchange(api, .GET, path)
            #expect((400..<500).contains(answer.status), "\(path): \(answer.status)")
        }
        // The first load of a screen stays small: every asset together.
        var total = 0
        for name in ["app.js", "util.js", "picker.js", "live.js", "calls.js", "timeline.js", "commlog.css"] {
            total += try await Self.exchange(api, .GET, "/assets/\(name)").body.utf8.count
        }
        #expect(total < 100_000, "\(total) bytes of assets")
    }

    @Test("launch links are read only as local paths; frame ancestors only as origins; dates in the organisation's time zone")
    func parsing() throws {
        #expect(WebPages.localPath("/clients/c-1?type=note") == "/clients/c-1?type=note")
        for bad in [nil, "", "clients", "//evil.example", "/\\evil", "https://x", "/a b", "/\u{7F}"] as [String?] {
            #expect(WebPages.localPath(bad) == nil, "\(String(describing: bad))")
        }
        #expect(WebPages.form("token=a%2Bb&to=%2Fclients%2Fc-1&x") == ["token": "a+b", "to": "/clients/c-1", "x": ""])

        for bad in ["*", "'self'", "https://*.example.org", "javascript:alert(1)", "https://pms.example.org/path", "pms.example.org"] {
            let configuration = try ProgramConfiguration(program: "query-api", defaultHTTPPort: 8080, overrides: ["COMMLOG_UI_FRAME_ANCESTORS": bad])
            #expect(throws: ConfigurationError.self, "\(bad)") { try webFrameAncestors(configuration) }
        }
        let configuration = try ProgramConfiguration(program: "query-api", defaultHTTPPort: 8080, overrides: ["COMMLOG_UI_FRAME_ANCESTORS": "https://pms.example.org/, http://localhost:3000"])
        #expect(try webFrameAncestors(configuration) == ["https://pms.example.org", "http://localhost:3000"])

        let sydney = PageFormat(timeZone: TimeZone(identifier: "Australia/Sydney")!)
        // 3 Dec 2026 17:09 UTC is 4 Dec 04:09 in Sydney (daylight saving, +11).
        #expect(sydney.dateTime(Date(timeIntervalSince1970: 1_796_317_740)) == "4 Dec 2026 04:09")
        #expect(sydney.startOfDay("2026-12-04") == Date(timeIntervalSince1970: 1_796_302_800))
        // The day the clocks go forward lasts 23 hours.
        let start = try #require(sydney.startOfDay("2026-10-04"))
        #expect(sydney.startOfDay("2026-10-04", addingDays: 1)!.timeIntervalSince(start) == 23 * 3600)
        for bad in ["2026-02-29", "2026-13-01", "yesterday", "2026-1", ""] { #expect(sydney.startOfDay(bad) == nil, "\(bad)") }
    }
}
