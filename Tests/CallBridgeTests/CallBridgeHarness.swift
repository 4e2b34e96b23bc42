import CommlogDomain
import Crypto
import Foundation
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real call-bridge program on a port of its own, with an organisation (and its directory) of the test's own.
final class CallBridgeHarness: Sendable {
    let organisationID = TestEnvironment.unique("org-call")
    let secret = "secret-\(UUID().uuidString)"
    let port: Int
    let process: ProgramProcess

    init(environment: [String: String] = [:]) async throws {
        var attempt = 0
        while true {
            attempt += 1
            let port = freePort()
            let process = try ProgramProcess("call-bridge", environment: [
                "COMMLOG_HTTP_PORT": "\(port)",
                "COMMLOG_PHONE_REGION": "AU",
                "COMMLOG_BATCH_WAIT_MS": "5",
                "COMMLOG_SMDR_RECONNECT_S": "1",
                "COMMLOG_RECORDING_TIMEOUT_S": "5",
                // The test's recording servers listen on 127.0.0.1, which is not public: allowed by name, as `make run` does.
                "COMMLOG_RECORDING_HOSTS": "127.0.0.1",
                "COMMLOG_MIGRATE_ON_START": "true",
                // Only the SMDR tests compete for links (suites run in parallel, each with its own programs).
                "COMMLOG_SMDR_ENABLED": "false",
            ].merging(environment) { _, new in new })
            let ready = await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
                (try? await Self.request(port: port, "GET", "/readyz").status) == 200
            }
            if ready {
                self.port = port
                self.process = process
                return
            }
            await process.kill()
            guard attempt < 3 else { throw ChildProcessError(description: "call-bridge did not become ready (last port \(port))") }
        }
    }

    func stop() async { await process.kill(SIGTERM) }

    struct Reply: Sendable {
        let status: Int
        let body: Data
        let contentType: String?
        var authenticate: String? = nil
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
    }

    func request(_ method: String, _ path: String, body: String? = nil, contentType: String = "application/json", authorization: String? = nil) async throws -> Reply {
        try await Self.request(port: port, method, path, body: body, contentType: contentType, authorization: authorization)
    }

    static func request(port: Int, _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json", authorization: String? = nil,
                        headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return Reply(status: http.statusCode, body: data, contentType: http.value(forHTTPHeaderField: "Content-Type"),
                     authenticate: http.value(forHTTPHeaderField: "WWW-Authenticate"))
    }

    /// Posts webhook events (a JSON object or array) with the integration's secret.
    func post(_ json: String, secret: String? = nil, organisation: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await Self.request(port: port, "POST", "/v1/organisations/\(organisation ?? organisationID)/call-events", body: json,
                               authorization: "Bearer \(secret ?? self.secret)", headers: headers)
    }

    /// Posts a call that rang and has a recording at `url`; returns the HTTP status.
    func postRecordedCall(_ callID: String, recording url: String) async throws -> Int {
        try await post("[" + callEvent(callID, seq: 1, kind: "ringing", at: 0) + "," + callEvent(callID, seq: 4, kind: "recording", recording: url, at: 9) + "]").status
    }

    /// Posts a Twilio-style form callback.
    func twilio(_ kind: String, _ fields: [String: String]) async throws -> Reply {
        let body = fields.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)"
        }.joined(separator: "&")
        let basic = Data("twilio:\(secret)".utf8).base64EncodedString()
        return try await request("POST", "/v1/organisations/\(organisationID)/twilio/\(kind)", body: body,
                                 contentType: "application/x-www-form-urlencoded", authorization: "Basic \(basic)")
    }
}

/// The organisation's directory and integration, written straight into the database as reminder-logger would.
struct Directory {
    let database: Database
    let organisationID: String

    /// The directory most tests use: the bridge's organisation and integration, client c-ann (0412 345 678)
    /// and staff s-201 (extension 201).
    static func standard(for bridge: CallBridgeHarness, in database: Database) async throws -> Directory {
        let directory = Directory(database: database, organisationID: bridge.organisationID)
        try await directory.setUp(secret: bridge.secret)
        try await directory.client("c-ann", phones: ["0412 345 678"])
        try await directory.staff("s-201", extension: "201")
        return directory
    }

    func setUp(secret: String, timezone: String = "Australia/Melbourne") async throws {
        let hash = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        try await database.withTenant(organisationID) { connection in
            try await connection.query(
                "INSERT INTO organisations (id, name, timezone) VALUES (\(organisationID), 'Test practice', \(timezone))", logger: database.logger)
            try await connection.query(
                "INSERT INTO call_integrations (organisation_id, secret_sha256) VALUES (\(organisationID), \(hash))", logger: database.logger)
        }
    }

    func client(_ id: String, phones: [String]) async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query("INSERT INTO clients (organisation_id, id, name, phones) VALUES (\(organisationID), \(id), \(id), \(phones))", logger: database.logger)
            for phone in phones {
                try await connection.query("""
                    INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id) VALUES (\(organisationID), 'phone', \(phone), 'client', \(id))
                    """, logger: database.logger)
            }
        }
    }

    func staff(_ id: String, extension phoneExtension: String) async throws {
        try await database.withTenant(organisationID) { connection in
            try await connection.query(
                "INSERT INTO staff (organisation_id, id, name, extension) VALUES (\(organisationID), \(id), \(id), \(phoneExtension))", logger: database.logger)
            try await connection.query("""
                INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id) VALUES (\(organisationID), 'extension', \(phoneExtension), 'staff', \(id))
                """, logger: database.logger)
        }
    }

    /// A call as the log reads it back (`StoredEntry`, its fields reached through `call.status` and the like), with
    /// its participants as `role:kind:ref:address` lines and its stored recording.
    @dynamicMemberLookup
    struct Call: Sendable, Equatable {
        var entry: StoredEntry
        var recordingSHA256: String?
        var recordingSize: Int64?

        subscript<Value>(dynamicMember field: KeyPath<StoredEntry, Value>) -> Value { entry[keyPath: field] }

        var participants: [String] {
            entry.participants.map { "\($0.role.rawValue):\($0.kind.rawValue):\($0.id ?? "-"):\($0.address ?? "-")" }
        }
    }

    func call(source: String, callID: String) async throws -> Call? {
        try await database.withTenant(organisationID) { connection in
            let reader = EntryReader(connection: connection, logger: database.logger)
            guard let entry = try await reader.entries(source: .phone, sourceRef: source + ":" + callID).first else { return nil }
            let recording = try await reader.recording(of: entry.id)
            return Call(entry: entry, recordingSHA256: recording?.sha256, recordingSize: recording?.size)
        }
    }

    /// Waits until the call exists and `condition` holds.
    func waitForCall(source: String = "generic", _ callID: String, timeout: Duration = .seconds(30), where condition: @Sendable (Call) -> Bool = { _ in true }) async throws -> Call? {
        var last: Call?
        try await waitUntil("the call \(callID) as expected", timeout: timeout, every: .milliseconds(100)) {
            last = try await call(source: source, callID: callID)
            return last.map(condition) ?? false
        }
        return last
    }
}

/// A webhook event as JSON.
func callEvent(_ callID: String, seq: Int, kind: String, direction: String = "inbound", from: String? = "+61412345678", to: String? = "+61390001000",
               extension phoneExtension: String? = nil, outcome: String? = nil, duration: Int? = nil, recording: String? = nil, at seconds: Int) -> String {
    func json(_ value: String?) -> String { value.map { "\"\($0)\"" } ?? "null" }
    let time = RFC3339.string(from: Date(timeIntervalSince1970: 1_795_000_000 + TimeInterval(seconds)))
    return """
        {"source":"generic","call_id":"\(callID)","seq":\(seq),"kind":"\(kind)","direction":"\(direction)","from":\(json(from)),"to":\(json(to)),\
        "extension":\(json(phoneExtension)),"outcome":\(json(outcome)),"duration_s":\(duration.map(String.init) ?? "null"),\
        "recording_url":\(json(recording)),"occurred_at":"\(time)"}
        """
}

/// Every suite that runs call-bridge programs runs one test at a time. All of them consume the one queue
/// call-bridge.calls: side by side, one call's events would be spread over several programs and applied
/// out of order for a while (the result converges, but a test reading it early sees a half-applied call),
/// and a program killed on purpose (a replica killed mid-run, an SMDR lease taken over) would take with it
/// the announcements another test is counting (they are best effort).
@Suite(.serialized) enum CallBridgeProcesses {}
