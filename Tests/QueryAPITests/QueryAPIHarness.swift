import Auth
import CommlogDomain
import Foundation
import LogStore
import Storage
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real query-api program on a port of its own, with an organisation of the test's own.
final class QueryAPIHarness: Sendable {
    static let secret = "query-api-test-secret-of-sufficient-length"

    let organisationID = TestEnvironment.unique("org-q")
    let port: Int
    let process: ProgramProcess
    let keys: StaffTokenKeys

    /// Starts query-api; on another port if it could not listen on the first ones (another program took the
    /// port between the check and the bind).
    init(environment: [String: String] = [:]) async throws {
        keys = try await StaffTokenKeys.hmac(secret: Self.secret)
        var attempt = 0
        while true {
            attempt += 1
            let port = freePort()
            let process = try ProgramProcess("query-api", environment: ["COMMLOG_HTTP_PORT": "\(port)", "COMMLOG_JWT_SECRET": Self.secret].merging(environment) { $1 })
            let ready = await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
                (try? await QueryAPIHarness.readiness(port: port)) == 200
            }
            if ready {
                self.port = port
                self.process = process
                return
            }
            await process.kill()
            guard attempt < 3 else { throw ChildProcessError(description: "query-api did not become ready (last port \(port))") }
        }
    }

    static func readiness(port: Int) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    func stop() async { await process.kill(SIGTERM) }

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
        var components = URLComponents(string: "http://127.0.0.1:\(port)\(path)")!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        var request = URLRequest(url: components.url!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (body, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, body: body, headers: headers)
    }

    /// Sends a request with a body (JSON unless `contentType` says otherwise).
    func send(_ method: String, _ path: String, token: String?, json: Any? = nil, body: Data? = nil,
              contentType: String? = "application/json", headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) } else if let body { request.httpBody = body }
        if let contentType, request.httpBody != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
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
