import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A tiny HTTP server inside the test that serves a call recording, redirects where it is told, and counts the
/// requests it sees (a server standing for a private address must see none).
final class RecordingServer: Sendable {
    /// `http://host:port`
    let base: String
    private let seen = Atomic<Int>(0)

    /// Requests that reached the server.
    var requests: Int { seen.load(ordering: .relaxed) }
    /// The recording's URL.
    var url: String { "\(base)/recordings/call.wav" }

    /// A URL on this server that redirects to `target`.
    func redirect(to target: String) -> String {
        "\(base)/redirect?to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
    }

    private init(base: String) { self.base = base }

    /// Serves `audio` on `host` (a loopback address) while `body` runs.
    static func with<Result: Sendable>(audio: [UInt8], host: String = "127.0.0.1", _ body: @Sendable (_ server: RecordingServer) async throws -> Result) async throws -> Result {
        let port = freePort()
        let server = RecordingServer(base: "http://\(host):\(port)")
        let router = Router()
        router.middlewares.add(CountingMiddleware(server: server))
        router.get("/recordings/:name") { _, _ in
            Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: audio)))
        }
        router.get("/missing/:name") { _, _ in Response(status: .notFound) }
        // The first request breaks off after 1.5 MiB; the next ones get the whole recording.
        let broken = Atomic<Int>(0)
        router.get("/broken/:name") { _, _ in
            let attempt = broken.add(1, ordering: .relaxed).newValue
            let cut = attempt == 1 ? min(audio.count, 1_572_864) : audio.count
            return Response(status: .ok, headers: [.contentType: "audio/wav"], body: ResponseBody { writer in
                var offset = 0
                while offset < cut {
                    let end = min(offset + 65_536, cut)
                    try await writer.write(ByteBuffer(bytes: audio[offset..<end]))
                    offset = end
                }
                if cut < audio.count { throw BrokenOff() }
                try await writer.finish(nil)
            })
        }
        router.get("/slow/:seconds") { _, context in
            try await Task.sleep(for: .seconds(Int(context.parameters.get("seconds") ?? "1") ?? 1))
            return Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: audio)))
        }
        router.get("/redirect") { request, _ in
            Response(status: .found, headers: [.location: request.uri.queryParameters.get("to") ?? "/"])
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)))
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            defer { group.cancelAll() }
            // The listener is up once it answers (a refused connection would count nothing).
            try await waitUntil("listening", timeout: .seconds(10), every: .milliseconds(20)) {
                (try? await URLSession.shared.data(from: URL(string: "\(server.base)/missing/probe")!)) != nil
            }
            server.seen.store(0, ordering: .relaxed)
            return try await body(server)
        }
    }

    /// The single-recording form most tests use.
    static func with<Result: Sendable>(audio: [UInt8], _ body: @Sendable (_ url: String) async throws -> Result) async throws -> Result {
        try await with(audio: audio, host: "127.0.0.1") { server in try await body(server.url) }
    }

    private struct BrokenOff: Error {}

    private struct CountingMiddleware: RouterMiddleware {
        let server: RecordingServer
        func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
            server.seen.add(1, ordering: .relaxed)
            return try await next(request, context)
        }
    }
}
