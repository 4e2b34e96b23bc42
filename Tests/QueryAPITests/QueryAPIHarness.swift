import Auth
import CommlogRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
@testable import QueryAPI
import CommlogDomain
import Foundation
import LogStore
import Storage
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// query-api built by `buildApplication` and run in this process (HummingbirdTesting's live mode: a real HTTP
/// listener on a port of its own), against the real database and broker, with an organisation of the test's own.
/// Process-level behaviour (signals, exit codes, configuration errors) is tested on the program itself
/// elsewhere (`QueryAPIEndToEndTests`, `ConfigurationErrorTests`).
final class QueryAPIHarness: Sendable {
    static let secret = "query-api-test-secret-of-sufficient-length"

    /// Requests as separate clients make them: no cookie jar shared by the test's staff (a cookie one staff
    /// member's answer set would go with another's requests), no cache.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        return URLSession(configuration: configuration)
    }()

    let organisationID = TestEnvironment.unique("org-q")
    let port: Int
    let keys: StaffTokenKeys
    private let stopping: AsyncStream<Void>.Continuation
    private let running: Task<Void, any Error>

    /// Builds the application with `environment` over the process's (the stack's addresses) and waits until it
    /// is ready: listening, connected to the broker, its live queue declared.
    init(environment: [String: String] = [:]) async throws {
        keys = try await StaffTokenKeys.hmac(secret: Self.secret)
        var logger = Logger(label: "query-api")
        logger.logLevel = .warning
        let configuration = try ProgramConfiguration(
            program: "query-api", defaultHTTPPort: 8080, overrides: ["COMMLOG_JWT_SECRET": Self.secret].merging(environment) { $1 }
        )
        let application = try await buildApplication(
            Infrastructure(program: "query-api", configuration: configuration, logger: logger), registry: PrometheusCollectorRegistry()
        )
        let (ports, portFound) = AsyncStream<Int>.makeStream()
        let (stopped, stopping) = AsyncStream<Void>.makeStream()
        self.stopping = stopping
        running = Task {
            defer { portFound.finish() }
            try await application.test(.live) { client in
                portFound.yield(client.port ?? 0)
                for await _ in stopped {}
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            try await running.value
            throw ChildProcessError(description: "query-api did not start listening")
        }
        self.port = port
        try await waitUntil("query-api is ready", timeout: .seconds(30)) {
            (try? await QueryAPIHarness.readiness(port: port)) == 200
        }
    }

    deinit { stopping.finish() }

    static func readiness(port: Int) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: "http://localhost:\(port)/readyz")!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// Shuts the application down gracefully, as SIGTERM does the program.
    func stop() async {
        stopping.finish()
        _ = try? await running.value
    }

    func token(_ staff: String, _ roles: [StaffRole], organisation: String? = nil, expires: Date = Date().addingTimeInterval(600)) async throws -> String {
        try await keys.sign(StaffClaims(staffID: staff, organisationID: organisation ?? organisationID, roles: roles, expires: expires))
    }

    struct Reply: Sendable {
        let status: Int
        let body: Data
        let headers: [String: String]

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
        var ids: [String] { items.compactMap { $0["id"] as? String } }
        var nextCursor: String? { json["next_cursor"] as? String }
        var detail: String { json["detail"] as? String ?? String(decoding: body, as: UTF8.self) }
    }

    func get(_ path: String, token: String? = nil, query: [String: String] = [:]) async throws -> Reply {
        var components = URLComponents(string: "http://localhost:\(port)\(path)")!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        var request = URLRequest(url: components.url!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (body, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, body: body, headers: headers)
    }

    /// Sends a request with a body (JSON unless `contentType` says otherwise).
    func send(_ method: String, _ path: String, token: String?, json: Any? = nil, body: Data? = nil,
              contentType: String? = "application/json", headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://localhost:\(port)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) } else if let body { request.httpBody = body }
        if let contentType, request.httpBody != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var replyHeaders: [String: String] = [:]
        for (key, value) in http.allHeaderFields { replyHeaders["\(key)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, body: data, headers: replyHeaders)
    }

    /// Writes entries straight into the log, as the writers do, and returns their ids by source ref.
    func insert(_ entries: [NewCommunication], database: Database) async throws -> [String: String] {
        try await database.withTenant(organisationID) { connection in
            Dictionary(uniqueKeysWithValues: try await CommunicationWriter.insert(entries, on: connection, logger: database.logger)
                .map { ($0.entry.sourceRef, $0.id.uuidString.lowercased()) })
        }
    }

    func entry(_ ref: String, client: String?, patient: String? = nil, author: String? = nil, type: CommunicationType = .sms,
               at time: Date = Date(), participants: [Participant] = [], subject: String? = nil, content: String? = nil) -> NewCommunication {
        NewCommunication(
            organisationID: organisationID, type: type, direction: type == .note ? nil : .outbound, occurredAt: time,
            clientID: client, patientID: patient, authorStaffID: author, reason: type == .sms ? .adHocSMS : .adHocEmail,
            subject: subject, content: content, source: .practice, sourceRef: ref, participants: participants
        )
    }
}
