import Auth
import CommlogDomain
import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An OpenTelemetry collector inside the test: it takes OTLP/HTTP JSON posts on /v1/traces, as a real one does.
final class TraceCollector: Sendable {
    struct Span: Sendable {
        let service: String
        let name: String
        let traceID: String
    }

    let endpoint: String
    private let posts = Mutex<[Data]>([])

    private init(endpoint: String) { self.endpoint = endpoint }

    /// Every span received so far.
    var spans: [Span] {
        posts.withLock { $0 }.flatMap(Self.spans(in:))
    }

    /// The spans of one OTLP JSON export request. Ids are hex, as OTLP's JSON mapping says, or base64 (protobuf's
    /// default JSON for bytes): both are read.
    static func spans(in post: Data) -> [Span] {
        guard let root = try? JSONSerialization.jsonObject(with: post) as? [String: Any] else { return [] }
        var spans: [Span] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let attributes = (resource["resource"] as? [String: Any])?["attributes"] as? [[String: Any]] ?? []
            let service = attributes.first { $0["key"] as? String == "service.name" }
                .flatMap { ($0["value"] as? [String: Any])?["stringValue"] as? String } ?? "?"
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    guard let id = span["traceId"] as? String else { continue }
                    spans.append(Span(service: service, name: span["name"] as? String ?? "", traceID: hex(id)))
                }
            }
        }
        return spans
    }

    static func hex(_ id: String) -> String {
        if id.count == 32, id.allSatisfy(\.isHexDigit) { return id.lowercased() }
        guard let bytes = Data(base64Encoded: id) else { return id }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func with<Result: Sendable>(_ body: @Sendable (TraceCollector) async throws -> Result) async throws -> Result {
        let port = freePort()
        let collector = TraceCollector(endpoint: "http://127.0.0.1:\(port)")
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            collector.posts.withLock { $0.append(Data(body.readableBytesView)) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        router.get("/ping") { _, _ in "ok" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            defer { group.cancelAll() }
            try await waitUntil("collector listening", timeout: .seconds(10), every: .milliseconds(20)) {
                (try? await URLSession.shared.data(from: URL(string: "\(collector.endpoint)/ping")!)) != nil
            }
            return try await body(collector)
        }
    }
}

extension CallBridgeProcesses {
    /// One call event followed from the phone system's webhook to a staff member's live stream, across two real
    /// programs exporting their spans over OTLP/HTTP the way an operator configures them.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct TracingEndToEndTests {
        @Test("the webhook's trace runs through call-bridge's consumer to query-api's live event: one trace id in every span")
        func oneTrace() async throws {
            try await TraceCollector.with { collector in
                try await TestEnvironment.withDatabase { database in
                    let tracing = [
                        "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_BSP_SCHEDULE_DELAY": "100",
                    ]
                    let bridge = try await CallBridgeHarness(environment: tracing)
                    _ = try await Directory.standard(for: bridge, in: database)
                    let apiPort = freePort()
                    let secret = QueryAPIEndToEndTests.jwtSecret
                    let api = try ProgramProcess("query-api", environment: [
                        "COMMLOG_HTTP_PORT": "\(apiPort)", "COMMLOG_JWT_SECRET": secret, "COMMLOG_LOG_FORMAT": "json", "COMMLOG_LOG_LEVEL": "debug",
                    ].merging(tracing) { $1 })
                    let keys = try await StaffTokenKeys.hmac(secret: secret)
                    let token = try await keys.sign(StaffClaims(staffID: "s-201", organisationID: bridge.organisationID, roles: [.staff], expires: Date().addingTimeInterval(600)))
                    try await waitUntil("query-api ready", timeout: .seconds(30)) { (try? await CallBridgeHarness.request(port: apiPort, "GET", "/readyz").status) == 200 }

                    let stream = NSTemporaryDirectory() + "trace-live-\(UUID().uuidString).txt"
                    let curl = try ChildProcess(executable: "/usr/bin/curl", arguments: [
                        "-sN", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(apiPort)/v1/live",
                    ], environment: [:], outputPath: stream)
                    defer { try? FileManager.default.removeItem(atPath: stream) }
                    try await waitUntil("live stream connected") { ((try? String(contentsOfFile: stream, encoding: .utf8)) ?? "").contains(": connected") }

                    // The phone system's own trace, as a W3C traceparent.
                    let traceID = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
                    let posted = try await bridge.post(callEvent("traced-1", seq: 1, kind: "ringing", extension: "201", at: 0),
                                                       headers: ["traceparent": "00-\(traceID)-00f067aa0ba902b7-01"])
                    #expect(posted.status == 202)
                    try await waitUntil("the call on the live stream") { ((try? String(contentsOfFile: stream, encoding: .utf8)) ?? "").contains("event: call.opened") }

                    let traced = await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
                        collector.spans.filter { $0.traceID == traceID }
                    } until: { spans in
                        spans.contains { $0.service == "call-bridge" && $0.name.contains("call-bridge.calls") }
                            && spans.contains { $0.service == "query-api" && $0.name.hasPrefix("live ") }
                    }
                    let described = traced.map { "\($0.service): \($0.name)" }
                    // The webhook request, the consumer's batch that committed the call, the live event sent to the stream.
                    #expect(traced.contains { $0.service == "call-bridge" && $0.name.contains("call-events") }, "\(described)")
                    #expect(traced.contains { $0.service == "call-bridge" && $0.name == "call-bridge.calls process" }, "\(described)")
                    #expect(traced.contains { $0.service == "query-api" && $0.name.hasPrefix("live ") }, "\(described)")
                    // Spans that are not this call's are other traces (readiness probes and the like), never a second id for it.
                    #expect(Set(collector.spans.filter { $0.name.hasPrefix("live ") && $0.service == "query-api" }.map(\.traceID)) == [traceID])

                    // query-api's log line for the live event (JSON, debug) names the phone system's trace.
                    let logged = api.output.split(separator: "\n").filter { $0.contains("live event sent") }
                    #expect(logged.contains { $0.contains(#""trace_id":"\#(traceID)""#) }, "\(logged)")

                    curl.signal(SIGTERM)
                    _ = await curl.wait()
                    #expect(await api.kill(SIGTERM) == 0)
                    await bridge.stop()
                }
            }
        }
    }
}
