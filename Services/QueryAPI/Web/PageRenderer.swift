import Foundation
import Hummingbird
import Mustache

/// The web page's templates (`Web/Templates`, package resources) and the headers every screen is served with.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// The `Content-Security-Policy` of every screen: nothing inline, nothing from elsewhere.
    let contentSecurityPolicy: String

    /// Loads the templates; `frameAncestors` are the origins allowed to frame the page (`COMMLOG_UI_FRAME_ANCESTORS`).
    init(frameAncestors: [String]) async throws {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Templates").path else {
            throw PageError.missingResources
        }
        library = try await MustacheLibrary(directory: folder, withExtension: "mustache")
        let ancestors = frameAncestors.isEmpty ? "'none'" : frameAncestors.joined(separator: " ")
        contentSecurityPolicy = [
            "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "media-src 'self'",
            "connect-src 'self'", "frame-src 'self'", "font-src 'self'", "form-action 'self'", "base-uri 'none'",
            "frame-ancestors \(ancestors)",
        ].joined(separator: "; ")
    }

    /// The folder of the stylesheet and the scripts (`Web/Assets`), served under `/assets`.
    static var assetsFolder: String {
        Bundle.module.resourceURL?.appendingPathComponent("Assets").path ?? "Assets"
    }

    /// A screen: `template` rendered with `context`, never cached (it holds personal data), never sniffed.
    func page(_ template: String, _ context: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(context, withTemplate: template) ?? "<!doctype html><title>Commlog</title><p>The page could not be drawn.</p>"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Referrer-Policy")!] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A `303 See Other` to a path of this server.
    static func redirect(to path: String, setCookie: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.location] = path
        headers[.cacheControl] = "no-store"
        if let setCookie { headers[.setCookie] = setCookie }
        return Response(status: .seeOther, headers: headers)
    }

    enum PageError: Error {
        case missingResources
    }
}
