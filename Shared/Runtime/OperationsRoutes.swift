import Hummingbird
import Prometheus

/// A check that must pass for a program to be ready (broker connected, database reachable).
public struct ReadinessCheck: Sendable {
    public let name: String
    public let check: @Sendable () async -> Bool

    public init(_ name: String, _ check: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.check = check
    }
}

extension Router where Context == BasicRequestContext {
    /// A program's router: every request counted and timed by route, method and status
    /// (`http_requests_total`, `http_server_request_duration_seconds`, `http_server_active_requests`). The
    /// metrics middleware comes first, so that it sees the status a problem answer finally has. Then each request
    /// is a server span (a no-op with tracing off), continuing the caller's `traceparent`; search text and
    /// cursors are not recorded.
    public static func instrumented() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: TracingMiddleware(redactingQueryParameters: ["q", "cursor", "token"]))
        return router
    }
}

extension Router {
    /// Adds `/healthz` (the process runs), `/readyz` (every check passes; 503 naming the failing ones)
    /// and `/metrics` (Prometheus text format).
    /// - Parameter scraped: figures read when `/metrics` is scraped, besides the process's own.
    public func addOperationsRoutes(readiness: [ReadinessCheck], registry: PrometheusCollectorRegistry, scraped: [@Sendable () async -> Void] = []) {
        get("/healthz") { _, _ in "ok\n" }
        get("/readyz") { _, _ -> Response in
            var failing: [String] = []
            for check in readiness where await !check.check() { failing.append(check.name) }
            let body = failing.isEmpty ? "ready\n" : "not ready: \(failing.joined(separator: ", "))\n"
            return Response(
                status: failing.isEmpty ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        let process = ProcessMetrics(registry: registry)
        get("/metrics") { _, _ -> Response in
            process.update()
            for update in scraped { await update() }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
}
