import Hummingbird

/// The paths of `openapi.yaml` and their methods, so that a known path asked with another method gets a 405
/// with `Allow` (the router alone answers 404), and the body checks run only where a body is expected.
enum KnownRoutes {
    /// Path templates, `*` standing for one segment, with the methods each allows.
    static let routes: [(segments: [Substring], methods: [HTTPRequest.Method])] = [
        ("/v1/communications", [.get, .post]),
        ("/v1/communications/*", [.get, .patch, .delete]),
        ("/v1/communications/*/history", [.get]),
        ("/v1/communications/*/reads", [.get]),
        ("/v1/communications/*/html", [.get]),
        ("/v1/communications/*/recording", [.get]),
        ("/v1/communications/*/attachments/*", [.get]),
        ("/v1/calls/open", [.get]),
        ("/v1/calls/*/end", [.post]),
        ("/v1/reasons", [.get, .post]),
        ("/v1/reasons/*", [.patch]),
        ("/v1/directory/search", [.get]),
        ("/v1/directory/clients/*", [.get]),
        ("/v1/directory/patients/*", [.get]),
        ("/v1/directory/locations", [.get]),
        ("/v1/directory/staff", [.get]),
        ("/v1/live", [.get]),
        ("/healthz", [.get]),
        ("/readyz", [.get]),
        ("/metrics", [.get]),
        ("/openapi.yaml", [.get]),
    ].map { (template, methods) in (template.split(separator: "/"), methods) }

    /// The methods `path` allows, or nil for a path the API does not have.
    static func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        // Literal paths win over templates (`/v1/calls/open` before `/v1/calls/*/end`).
        let matches = routes.filter { route in
            route.segments.count == segments.count && zip(route.segments, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }
        let best = matches.max { a, b in a.segments.filter { $0 != "*" }.count < b.segments.filter { $0 != "*" }.count }
        return best?.methods
    }

    /// Whether the operation at `path` takes a JSON body.
    static func takesBody(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        (method == .post && (path == "/v1/communications" || path == "/v1/reasons"))
            || (method == .patch && methods(for: path)?.contains(.patch) == true)
    }
}
