import Auth
import CommlogDomain
import CommlogRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Storage

/// The staff web page: signing in and out, and the screens (`/clients/{id}`, `/patients/{id}`, `/staff/{id}`,
/// `/board`, `/settings`), each a stable address the practice software can link to.
///
/// A screen is drawn on the server from the same reads as the API (`EntryPages`, `DirectoryLookup`) under the
/// signed-in staff member's visibility; the scripts (`Web/Assets`) only add what must be live and read and
/// write through the API itself.
struct WebPages: Sendable {
    let renderer: PageRenderer
    let database: Database
    let cursors: PageCursorSigner
    let keys: StaffTokenKeys
    /// Whether the practice software may frame the page (`COMMLOG_UI_FRAME_ANCESTORS`): the cookie then
    /// has to cross sites.
    let framed: Bool
    let logger: Logger

    /// The screens and the session's routes, and the stylesheet and scripts under `/assets`.
    func register(on router: Router<some RequestContext>) {
        router.add(middleware: AssetMiddleware())
        router.get("/launch") { _, _ in renderer.page("launch", MessagePage(title: "Opening Commlog", message: nil)) }
        router.post("/session") { request, _ in try await signIn(request) }
        router.post("/session/end") { request, _ in signOut(request) }
        router.get("/signed-out") { _, _ in
            renderer.page("message", MessagePage(title: "Signed out", message: "You are signed out of Commlog. Open it again from your practice software."))
        }
        router.get("/") { _, _ in
            guard let caller = Caller.current else { return notSignedIn() }
            return PageRenderer.redirect(to: caller.seesEverything ? "/board" : "/staff/\(PageFrame.segment(caller.staffID))")
        }
        router.get("/board") { request, _ in try await screen(request, .board) }
        router.get("/clients/:id") { request, context in try await screen(request, .client(context.parameters.require("id"))) }
        router.get("/patients/:id") { request, context in try await screen(request, .patient(context.parameters.require("id"))) }
        router.get("/patients/:id/print") { request, context in try await printView(request, patientID: context.parameters.require("id")) }
        router.get("/staff/:id") { request, context in try await screen(request, .staff(context.parameters.require("id"))) }
        router.get("/settings") { request, _ in try await settings(request) }
    }

    // MARK: Signing in and out

    /// `POST /session` from the launch page: the token in a form, checked as the API checks it, becomes the
    /// session cookie; then the screen the link named.
    func signIn(_ request: Request) async throws -> Response {
        guard WebSession.isSameOrigin(request) else {
            return renderer.page("message", MessagePage(title: "Not signed in", message: "Commlog can only be opened from its own launch page."), status: .forbidden)
        }
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        let form = Self.form(String(buffer: body))
        guard let token = form["token"], !token.isEmpty else {
            return renderer.page("message", MessagePage(title: "Not signed in", message: "The link that opened Commlog carried no sign-in. Open Commlog again from your practice software."), status: .badRequest)
        }
        let claims: StaffClaims
        do {
            claims = try await keys.verify(token)
        } catch {
            return renderer.page("message", MessagePage(
                title: "Not signed in", message: "This sign-in link cannot be used: \(AuthMiddleware<BasicRequestContext>.reason(error)). Open Commlog again from your practice software."
            ), status: .unauthorized)
        }
        let cookie = WebSession.cookie(token: token, expires: claims.expiresAt, secure: WebSession.isSecure(request), framed: framed)
        return PageRenderer.redirect(to: Self.localPath(form["to"]) ?? "/", setCookie: cookie)
    }

    /// `POST /session/end`: the cookie is dropped (AuthMiddleware has checked the origin of a signed-in request).
    func signOut(_ request: Request) -> Response {
        PageRenderer.redirect(to: "/signed-out", setCookie: WebSession.ending(secure: WebSession.isSecure(request)))
    }

    func notSignedIn() -> Response {
        renderer.page("message", MessagePage(
            title: "Not signed in", message: "Open Commlog from your practice software: it signs you in. If you signed out or your session ended, open it again from there."
        ), status: .unauthorized)
    }

    /// A path of this server to go to after signing in: `/…`, never `//host` or a scheme.
    static func localPath(_ value: String?) -> String? {
        guard let value, value.hasPrefix("/"), !value.hasPrefix("//"), !value.contains("\\"), value.count <= 2000,
              value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return nil }
        return value
    }

    /// The fields of an `application/x-www-form-urlencoded` body.
    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    // MARK: Screens

    /// What a timeline screen shows.
    enum Screen: Sendable {
        case client(String)
        case patient(String)
        case staff(String)
        case board
    }

    func screen(_ request: Request, _ screen: Screen) async throws -> Response {
        guard let caller = Caller.current else { return notSignedIn() }
        if case .board = screen, !caller.seesEverything {
            return renderer.page("message", MessagePage(title: "Board", message: "The organisation's board is for managers and admins."), status: .forbidden)
        }
        // The first value of each parameter, as the API reads them.
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
        let model = try await database.forReading(after: ReadFloor.current).withTenant(caller.organisationID) { connection -> TimelinePage? in
            let basics = try await PageBasics.read(connection, caller: caller, logger: logger)
            guard var page = try await TimelinePage.make(
                screen, basics: basics, path: request.uri.path, query: query, connection: connection, caller: caller, logger: logger
            ) else { return nil }
            // A wrong filter lists nothing: the page says what was wrong.
            if page.error == nil {
                let read = try await EntryPages(source: .transaction(connection), caller: caller, logger: logger).list(page.filter)
                page.rows = read.items.map { PageRow($0, format: basics.format) }
                page.hasRows = !read.items.isEmpty
                page.nextCursor = read.next
            }
            return page
        }
        guard var model else {
            return renderer.page("message", MessagePage(title: "Not found", message: "The organisation has no such record."), status: .notFound)
        }
        model.encodedCursor = try await model.nextCursor?.encoded(signedBy: cursors, organisationID: caller.organisationID)
        return renderer.page("timeline", model, status: model.error == nil ? .ok : .badRequest)
    }

    /// `/patients/{id}/print`: the patient's communications marked for printing with the medical record.
    func printView(_ request: Request, patientID: String) async throws -> Response {
        guard let caller = Caller.current else { return notSignedIn() }
        let model = try await database.forReading(after: ReadFloor.current).withTenant(caller.organisationID) { connection -> PrintPage? in
            let basics = try await PageBasics.read(connection, caller: caller, logger: logger)
            guard let patient = try await DirectoryLookup(connection: connection, caller: caller, logger: logger).patient(patientID) else { return nil }
            var filter = ListFilter()
            filter.patientID = patientID
            filter.limit = 200
            var entries: [PrintPage.Entry] = []
            var pages = 0
            // Every entry of the patient, page by page (a medical record is read whole), keeping those to print.
            while pages < 50 {
                let read = try await EntryPages(source: .transaction(connection), caller: caller, logger: logger).list(filter)
                entries += read.items.filter(\.printInPatientHistory).map { PrintPage.Entry($0, format: basics.format) }
                guard let next = read.next else { break }
                filter.cursor = next
                pages += 1
            }
            return PrintPage(
                frame: basics.frame("\(patient.record.name): communications", screen: "print", path: request.uri.path),
                patientName: patient.record.name, clientName: patient.record.clientName, printedAt: basics.format.dateTime(Date()),
                entries: entries
            )
        }
        guard let model else {
            return renderer.page("message", MessagePage(title: "Not found", message: "The organisation has no such patient."), status: .notFound)
        }
        return renderer.page("print", model)
    }

    /// `/settings`: the organisation's reasons (admins).
    func settings(_ request: Request) async throws -> Response {
        guard let caller = Caller.current else { return notSignedIn() }
        guard caller.roles.contains(.admin) else {
            return renderer.page("message", MessagePage(title: "Settings", message: "Settings are for admins."), status: .forbidden)
        }
        let model = try await database.forReading(after: ReadFloor.current).withTenant(caller.organisationID) { connection -> SettingsPage in
            let basics = try await PageBasics.read(connection, caller: caller, logger: logger)
            let reasons = try await DirectoryLookup(connection: connection, caller: caller, logger: logger).reasons()
                .map { SettingsPage.Reason(code: $0.code, label: $0.label, active: $0.active, system: $0.system) }
            return SettingsPage(frame: basics.frame("Settings", screen: "settings", path: request.uri.path), reasons: reasons)
        }
        return renderer.page("settings", model)
    }
}

/// A screen that only says something (signed out, not signed in, not found).
struct MessagePage: Sendable {
    var title: String
    var message: String?
}

/// What every screen reads first: the organisation (name, time zone) and the signed-in staff member's name.
struct PageBasics: Sendable {
    var organisation: PageOrganisation
    var staffName: String?
    var caller: Caller

    var format: PageFormat { PageFormat(timeZone: organisation.timeZone) }

    func frame(_ title: String, screen: String, path: String) -> PageFrame {
        PageFrame(title: title, screen: screen, path: path, organisation: organisation, caller: caller, staffName: staffName)
    }

    static func read(_ connection: PostgresConnection, caller: Caller, logger: Logger) async throws -> PageBasics {
        var basics = PageBasics(organisation: PageOrganisation(name: "", timeZone: .gmt), caller: caller)
        for try await (name, zone, staffName) in try await connection.query("""
            SELECT o.name, o.timezone, (SELECT nullif(s.name, '') FROM staff s WHERE s.organisation_id = o.id AND s.id = \(caller.staffID))
            FROM organisations o WHERE o.id = commlog_current_organisation()
            """, logger: logger).decode((String, String, String?).self) {
            basics.organisation = PageOrganisation(name: name, timeZone: TimeZone(identifier: zone) ?? .gmt)
            basics.staffName = staffName
        }
        return basics
    }
}

/// `/settings`.
struct SettingsPage: Sendable {
    struct Reason: Sendable {
        var code: String
        var label: String
        var active: Bool
        var system: Bool
    }

    var frame: PageFrame
    var reasons: [Reason]
}

/// `/patients/{id}/print`.
struct PrintPage: Sendable {
    struct Entry: Sendable {
        var when: String
        var type: String
        // Optional: an empty string would still open a template's section.
        var direction: String?
        var reason: String?
        var author: String?
        var subject: String?
        var description: String?
        var notes: String?

        init(_ summary: EntrySummary, format: PageFormat) {
            when = format.dateTime(summary.occurredAt)
            type = PageFormat.label(summary.type)
            direction = summary.direction.map { PageFormat.label($0) }
            reason = summary.names.reason ?? summary.reason
            author = summary.names.author ?? summary.authorStaffID
            subject = summary.subject
            description = summary.description
            notes = summary.notes
        }
    }

    var frame: PageFrame
    var patientName: String
    var clientName: String?
    var printedAt: String
    var entries: [Entry]
}
