import Auth
import CommlogDomain
import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the real query-api counts of its requests and of itself, read from its /metrics, and how it writes its
/// log (the program itself, for its metrics and logging systems).
@Suite("query-api: metrics and logs")
struct HTTPMetricsTests {
    @Test("/metrics says which build runs and how many dead letters wait, by queue, read when it is scraped")
    func buildAndDeadLetters() async throws {
        let queue = TestEnvironment.unique("test.backlog")
        try await TestEnvironment.withDatabase(owner: true) { database in
            for index in 0..<3 {
                try await database.client.query("""
                    INSERT INTO dead_letters (fingerprint, queue, routing_key, reason, body)
                    VALUES (\(TestEnvironment.unique("fingerprint")), \(queue), 'test.key', \("reason \(index)"), '\\x00'::bytea)
                    """, logger: database.logger)
            }
            let port = freePort()
            let program = try ProgramProcess("query-api", environment: [
                "COMMLOG_HTTP_PORT": "\(port)", "COMMLOG_JWT_SECRET": QueryAPIHarness.secret, "COMMLOG_BUILD_REVISION": "abc1234",
            ])
            try await waitUntil("query-api ready", timeout: .seconds(30)) { await ProgramProcess.isReady(port: port) }
            func scrape() async throws -> [Substring] {
                let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
                return String(decoding: body, as: UTF8.self).split(separator: "\n")
            }
            func waiting(_ lines: [Substring]) -> Double? {
                lines.first { $0.hasPrefix("commlog_dead_letters_waiting{") && $0.contains("queue=\"\(queue)\"") }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            }
            let first = try await scrape()
            #expect(first.contains { $0.hasPrefix("commlog_build_info{") && $0.contains("program=\"query-api\"") && $0.contains("revision=\"abc1234\"") && ($0.hasSuffix(" 1.0") || $0.hasSuffix(" 1")) })
            #expect(waiting(first) == 3)
            try await database.client.query("UPDATE dead_letters SET replayed_at = now() WHERE queue = \(queue) AND reason <> 'reason 0'", logger: database.logger)
            #expect(waiting(try await scrape()) == 1)
            try await database.client.query("UPDATE dead_letters SET replayed_at = now() WHERE queue = \(queue)", logger: database.logger)
            #expect(waiting(try await scrape()) == 0)
            #expect(await program.kill(SIGTERM) == 0)
        }
    }

    @Test("every request is counted and timed by route template, method and status; a problem answer by its own status, not 500")
    func requestMetrics() async throws {
        let port = freePort()
        let program = try ProgramProcess("query-api", environment: [
            "COMMLOG_HTTP_PORT": "\(port)", "COMMLOG_JWT_SECRET": QueryAPIHarness.secret, "COMMLOG_LOG_FORMAT": "json",
        ])
        let ready = await eventually(timeout: .seconds(30), every: .milliseconds(200)) { await ProgramProcess.isReady(port: port) }
        try #require(ready, "query-api did not become ready")
        let keys = try await StaffTokenKeys.hmac(secret: QueryAPIHarness.secret)
        let token = try await keys.sign(StaffClaims(staffID: "m-1", organisationID: TestEnvironment.unique("org-metrics"), roles: [.manager], expires: Date().addingTimeInterval(600)))
        func get(_ path: String) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            return (try await URLSession.shared.data(for: request).1 as! HTTPURLResponse).statusCode
        }
        #expect(try await get("/v1/communications?limit=5") == 200)
        #expect(try await get("/v1/communications?limit=5") == 200)
        #expect(try await get("/v1/communications?limit=0") == 400)
        #expect(try await get("/v1/communications/\(UUID().uuidString)") == 404)
        let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        await program.kill(SIGTERM)
        let lines = String(decoding: body, as: UTF8.self).split(separator: "\n")
        func count(route: String, status: Int) -> Int? {
            lines.first { $0.hasPrefix("http_requests_total{") && $0.contains("http_route=\"\(route)\"") && $0.contains("http_response_status_code=\"\(status)\"") }
                .flatMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        }
        #expect(count(route: "/v1/communications", status: 200) == 2, "\(lines.filter { $0.contains("hb_requests") })")
        #expect(count(route: "/v1/communications", status: 400) == 1)
        #expect(lines.contains { $0.hasPrefix("http_requests_total{") && $0.contains("/v1/communications/") && $0.contains("\"404\"") }, "an entry by id is counted under its route template")
        #expect(!lines.contains { $0.hasPrefix("http_requests_total{") && $0.contains("\"500\"") })
        #expect(lines.contains { $0.hasPrefix("http_server_request_duration_seconds") && $0.contains("_bucket{") && $0.contains("http_route=\"/v1/communications\"") })
        // The process's own figures.
        func value(_ name: String) -> Double? {
            lines.first { $0.hasPrefix("\(name) ") }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }
        #expect((value("process_resident_memory_bytes") ?? 0) > 5_000_000)
        #expect((value("process_open_fds") ?? 0) > 3 && (value("process_max_fds") ?? 0) >= (value("process_open_fds") ?? 0))
        #expect((value("process_cpu_seconds_total") ?? 0) > 0)
        #expect(abs((value("process_start_time_seconds") ?? 0) - Date().timeIntervalSince1970) < 120)
        // COMMLOG_LOG_FORMAT=json: every line is one JSON object with the four fields and the metadata.
        let logLines = program.output.split(separator: "\n")
        #expect(!logLines.isEmpty)
        for line in logLines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(object["time"] is String && object["level"] is String && object["logger"] is String && object["message"] is String, "\(line)")
        }
        #expect(logLines.contains { $0.contains(#""message":"starting""#) && $0.contains(#""instance":"#) })
        // Every name is one Prometheus accepts.
        for line in lines where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }, "\(name)")
        }
    }
}
