import CommlogRuntime
import Foundation
import Hummingbird
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The shared `ProblemMiddleware` (call-bridge's and query-api's) on a real listener: every error leaves as
/// a problem, and an unexpected one as a 500 that says nothing internal.
@Suite struct ProblemMiddlewareTests {
    struct Unexpected: Error, CustomStringConvertible {
        var description: String { "connection string postgres://app:hunter2@db/commlog" }
    }

    @Test("a Problem keeps its status, a router error its own, and an unexpected error is a 500 without its details")
    func problems() async throws {
        let port = freePort()
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.get("/unexpected") { _, _ -> String in throw Unexpected() }
        router.get("/conflict") { _, _ -> String in throw Problem.conflict("already ended") }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            func get(_ path: String) async throws -> (status: Int, type: String?, body: [String: Any]) {
                var result: (Int, String?, [String: Any])?
                // The listener may not be up yet.
                for _ in 0..<100 where result == nil {
                    do {
                        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
                        let http = response as! HTTPURLResponse
                        result = (http.statusCode, http.value(forHTTPHeaderField: "Content-Type"),
                                  (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
                    } catch is URLError {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                return try #require(result)
            }

            let unexpected = try await get("/unexpected")
            #expect(unexpected.status == 500)
            #expect(unexpected.type == "application/problem+json")
            #expect(unexpected.body["status"] as? Int == 500)
            #expect(unexpected.body["detail"] as? String == "the request could not be completed")
            #expect(!"\(unexpected.body)".contains("hunter2"))

            let conflict = try await get("/conflict")
            #expect(conflict.status == 409)
            #expect(conflict.body["detail"] as? String == "already ended")

            let missing = try await get("/nowhere")
            #expect(missing.status == 404)
            #expect(missing.type == "application/problem+json")
            #expect(missing.body["detail"] as? String == "no such resource: /nowhere")
        }
    }
}
