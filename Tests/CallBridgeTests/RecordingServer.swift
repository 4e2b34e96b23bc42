import Foundation
import Hummingbird
import NIOCore
import TestSupport

/// A tiny HTTP server inside the test that serves a call recording.
enum RecordingServer {
    static func with<Result: Sendable>(audio: [UInt8], _ body: @Sendable (_ url: String) async throws -> Result) async throws -> Result {
        let port = freePort()
        let router = Router()
        router.get("/recordings/:name") { _, _ in
            Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: audio)))
        }
        router.get("/missing/:name") { _, _ in Response(status: .notFound) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(port)/recordings/call.wav")
        }
    }
}
