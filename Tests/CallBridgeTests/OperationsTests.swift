import CommlogDomain
import CommlogRuntime
import Crypto
import Foundation
import Logging
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport
@testable import CallBridge

/// What happens around the calls: failures that are dead-lettered, auto-close, leases, the admin commands, configuration.
extension CallBridgeProcesses {
@Suite(.serialized, .timeLimit(.minutes(5)))
struct OperationsTests {
    func deadLetterReasons(_ database: Database, organisation: String) async throws -> [String] {
        var reasons: [String] = []
        for try await reason in try await database.client.query(
            "SELECT reason FROM dead_letters WHERE organisation_id = \(organisation)", logger: database.logger
        ).decode(String.self) {
            reasons.append(reason)
        }
        return reasons
    }

    @Test("a recording that cannot be fetched is dead-lettered with its reason; the call is kept")
    func recordingNotFound() async throws {
        try await RecordingServer.with(audio: [1, 2, 3]) { url in
            try await TestEnvironment.withDatabase { database in
                let bridge = try await CallBridgeHarness(environment: ["COMMLOG_RECORDING_ATTEMPTS": "2"])
                let directory = Directory(database: database, organisationID: bridge.organisationID)
                try await directory.setUp(secret: bridge.secret)
                let missing = url.replacingOccurrences(of: "/recordings/", with: "/missing/")
                #expect(try await bridge.post("[" + callEvent("rec-404", seq: 1, kind: "ringing", at: 0) + "," +
                                              callEvent("rec-404", seq: 5, kind: "recording", recording: missing, at: 9) + "]").status == 202)
                let call = try await directory.waitForCall("rec-404")
                let reasons = await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    (try? await deadLetterReasons(database, organisation: bridge.organisationID).contains { $0.contains("HTTP 404") }) == true
                }
                await bridge.stop()
                #expect(call?.status == .open)
                #expect(call?.recordingSHA256 == nil)
                #expect(reasons)
            }
        }
    }

    @Test("events of an organisation the directory does not know are dead-lettered once COMMLOG_UNKNOWN_ORGANISATION_WAIT_S has passed")
    func unknownOrganisation() async throws {
        try await TestEnvironment.withDatabase { database in
            let bridge = try await CallBridgeHarness(environment: ["COMMLOG_UNKNOWN_ORGANISATION_WAIT_S": "1"])
            let hash = SHA256.hash(data: Data(bridge.secret.utf8)).map { String(format: "%02x", $0) }.joined()
            try await database.withTenant(bridge.organisationID) { connection in
                _ = try await connection.query(
                    "INSERT INTO call_integrations (organisation_id, secret_sha256) VALUES (\(bridge.organisationID), \(hash))", logger: database.logger)
            }
            #expect(try await bridge.post(callEvent("nobody-1", seq: 1, kind: "ringing", at: 0)).status == 202)
            let found = await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                (try? await deadLetterReasons(database, organisation: bridge.organisationID).contains { $0.contains("unknown organisation") }) == true
            }
            await bridge.stop()
            #expect(found)
        }
    }

    @Test("a client that stops in the middle of its request's head is disconnected after COMMLOG_HTTP_IDLE_TIMEOUT_S")
    func stalledClient() async throws {
        let bridge = try await CallBridgeHarness(environment: ["COMMLOG_HTTP_IDLE_TIMEOUT_S": "1"])
        let output = NSTemporaryDirectory() + "stalled-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let script = """
            import socket, sys
            client = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            client.sendall(b"POST /v1/organisations/x/call-events HTTP/1.1\\r\\nHost: test\\r\\n")
            client.settimeout(10)
            print("closed" if client.recv(100) == b"" else "answered")
            """
        let status = try await ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", script, "\(bridge.port)"],
                                            environment: ProcessInfo.processInfo.environment, outputPath: output).wait()
        await bridge.stop()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0 && text.contains("closed"), "status \(status): \(text)")
    }

    @Test("auto-close closes calls left open, audited as the system")
    func autoClose() async throws {
        try await TestEnvironment.withDatabase { database in
            let bridge = try await CallBridgeHarness()
            let directory = Directory(database: database, organisationID: bridge.organisationID)
            try await directory.setUp(secret: bridge.secret)
            // 2020: older than anything the other tests leave open.
            #expect(try await bridge.post(callEvent("stale-1", seq: 1, kind: "answered", extension: "201", at: -200_000_000)).status == 202)
            let open = try #require(try await directory.waitForCall("stale-1"))
            await bridge.stop()
            #expect(open.status == .open)

            let connection = AMQPConnection(configuration: try TestEnvironment.amqpConfiguration(), logger: TestEnvironment.logger)
            let closer = AutoCloser(database: database, announcer: Announcer(connection: connection, logger: TestEnvironment.logger),
                                    after: .seconds(3600), logger: TestEnvironment.logger)
            let now = Date(timeIntervalSince1970: 1_595_100_000)
            #expect(try await closer.closeStale(now: now) >= 1)
            #expect(try await closer.closeStale(now: now) == 0)
            let closed = try #require(try await directory.call(source: "generic", callID: "stale-1"))
            #expect(closed.status == .closed)
            #expect(closed.closedAt != nil)
            let audit = try await database.withTenant(bridge.organisationID) { connection in
                var rows: [(String, String?)] = []
                for try await row in try await connection.query(
                    "SELECT action, staff_id FROM audit_history WHERE communication_id = \(open.id) ORDER BY id", logger: database.logger
                ).decode((String, String?).self) { rows.append(row) }
                return rows.map { "\($0.0):\($0.1 ?? "system")" }
            }
            #expect(audit == ["create:system", "auto_close:system"])
        }
    }

    @Test("one holder at a time for a lease; it is taken over once expired")
    func lease() async throws {
        try await TestEnvironment.withDatabase { database in
            let name = TestEnvironment.unique("smdr:test")
            let first = Lease(name: name, holder: "replica-a", duration: .seconds(2), database: database)
            let second = Lease(name: name, holder: "replica-b", duration: .seconds(2), database: database)
            #expect(try await first.acquire())
            #expect(try await !second.acquire())
            #expect(try await first.acquire())
            // Free once it expires (its two seconds, in the database's time), not before: within a few seconds.
            try await waitUntil("the first replica's lease expired", timeout: .seconds(10), every: .milliseconds(200)) { try await second.acquire() }
            #expect(try await !first.acquire())
            await second.release()
            #expect(try await first.acquire())
        }
    }

    @Test("commlog call-integration add, list and revoke; smdr add, list, disable, enable and remove; --json lists")
    func adminCommands() async throws {
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        let organisation = TestEnvironment.unique("org-admin")
        func run(_ arguments: [String]) async throws -> (Int32, String) {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("commlog-\(UUID().uuidString).out").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let status = try await ChildProcess(executable: bin + "/commlog", arguments: arguments, environment: ProcessInfo.processInfo.environment,
                                                outputPath: output).wait()
            return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
        let (status, secret) = try await run(["call-integration", "add", "--org", organisation])
        #expect(status == 0, "\(secret)")
        // The secret is the line printed on standard output (the file also gets standard error).
        let printed = secret.split(separator: "\n").map(String.init).last { !$0.contains(" ") && $0.count >= 40 } ?? ""
        #expect(printed.count >= 40)
        let (smdrStatus, smdrOutput) = try await run(["smdr", "add", "--org", organisation, "--host", "pbx.example.org", "--layout", "extended-digits,ani-dnis"])
        #expect(smdrStatus == 0, "\(smdrOutput)")
        let (listStatus, listing) = try await run(["smdr", "list", "--org", organisation])
        #expect(listStatus == 0)
        #expect(listing.contains("pbx.example.org:1752  enabled") && listing.contains("records=0"), "\(listing)")
        let (badStatus, _) = try await run(["smdr", "add", "--org", organisation, "--host", "pbx.example.org", "--layout", "colour"])
        #expect(badStatus != 0)

        func jsonList(_ arguments: [String]) async throws -> [[String: Any]] {
            let (status, output) = try await run(arguments + ["--json"])
            #expect(status == 0, "\(output)")
            let line = output.split(separator: "\n").last { $0.hasPrefix("[") } ?? "[]"
            return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]] ?? []
        }
        let integrations = try await jsonList(["call-integration", "list", "--org", organisation])
        #expect(integrations.count == 1 && integrations.first?["revoked_at"] is NSNull && integrations.first?["twilio"] as? Bool == false)
        let integration = try #require(integrations.first?["id"] as? String)
        #expect(try await run(["call-integration", "revoke", "--org", organisation, integration]).0 == 0)
        #expect(try await jsonList(["call-integration", "list", "--org", organisation]).first?["revoked_at"] as? String != nil)
        #expect(try await run(["call-integration", "revoke", "--org", organisation, UUID().uuidString]).0 != 0)

        let links = try await jsonList(["smdr", "list", "--org", organisation])
        let link = try #require(links.first?["id"] as? String)
        #expect((links.first?["layout"] as? [String: Any])?["extended_digits"] as? Bool == true)
        #expect(try await run(["smdr", "disable", "--org", organisation, link]).0 == 0)
        #expect(try await jsonList(["smdr", "list", "--org", organisation]).first?["enabled"] as? Bool == false)
        #expect(try await run(["smdr", "enable", "--org", organisation, link]).0 == 0)
        #expect(try await jsonList(["smdr", "list", "--org", organisation]).first?["enabled"] as? Bool == true)
        let (deadStatus, deadOutput) = try await run(["dead-letters", "list", "--org", organisation, "--json"])
        #expect(deadStatus == 0 && deadOutput.contains("[]"), "\(deadOutput)")
        try await TestEnvironment.withDatabase { database in
            try await database.withTenant(organisation) { connection in
                var hashes: [String] = []
                for try await hash in try await connection.query(
                    "SELECT secret_sha256 FROM call_integrations WHERE organisation_id = \(organisation)", logger: database.logger
                ).decode(String.self) { hashes.append(hash) }
                #expect(hashes == [SHA256.hash(data: Data(printed.utf8)).map { String(format: "%02x", $0) }.joined()], "output: \(secret)")
                var links: [(String, Int, String)] = []
                for try await link in try await connection.query(
                    "SELECT host, port, layout::text FROM smdr_links WHERE organisation_id = \(organisation)", logger: database.logger
                ).decode((String, Int, String).self) { links.append(link) }
                #expect(links.count == 1)
                #expect(links.first?.0 == "pbx.example.org" && links.first?.1 == 1752)
                let layout = try JSONDecoder().decode(SMDRLayout.self, from: Data((links.first?.2 ?? "{}").utf8))
                #expect(layout == SMDRLayout(extendedDigits: true, aniDNIS: true, networkFormat: false))
                _ = try await connection.query("UPDATE smdr_links SET enabled = false WHERE organisation_id = \(organisation)", logger: database.logger)
            }
        }
        #expect(try await run(["smdr", "remove", "--org", organisation, link]).0 == 0)
        #expect(try await jsonList(["smdr", "list", "--org", organisation]).isEmpty)
        #expect(try await run(["smdr", "remove", "--org", organisation, link]).0 != 0)
    }

    @Test("an unknown phone region stops call-bridge at start (status 78)")
    func badRegion() async throws {
        let bin = try TestEnvironment.variable("COMMLOG_BIN")
        var environment = ProcessInfo.processInfo.environment
        environment["COMMLOG_PHONE_REGION"] = "XX"
        environment["COMMLOG_HTTP_PORT"] = "\(freePort())"
        let status = try await ChildProcess(executable: bin + "/call-bridge", environment: environment, outputPath: "/dev/null").wait()
        #expect(status == 78)
    }
}
}

/// No accepted event is lost when call-bridge is killed.
extension CallBridgeProcesses {
@Suite(.timeLimit(.minutes(5)))
struct CallBridgeKillTests {
    @Test("events accepted (202) before a SIGKILL are all applied after a restart")
    func killed() async throws {
        try await TestEnvironment.withDatabase { database in
            let first = try await CallBridgeHarness(environment: ["COMMLOG_BATCH_SIZE": "20"])
            let directory = Directory(database: database, organisationID: first.organisationID)
            try await directory.setUp(secret: first.secret)
            let calls = 150
            for chunk in stride(from: 0, to: calls, by: 25) {
                var events: [String] = []
                for call in chunk..<min(calls, chunk + 25) {
                    events += [
                        callEvent("kill-\(call)", seq: 1, kind: "ringing", extension: "201", at: call),
                        callEvent("kill-\(call)", seq: 2, kind: "answered", extension: "201", at: call + 2),
                        callEvent("kill-\(call)", seq: 3, kind: "ended", outcome: "answered", duration: 30, at: call + 32),
                    ]
                }
                #expect(try await first.post("[" + events.joined(separator: ",") + "]").status == 202)
            }
            await first.process.kill()
            let second = try await CallBridgeHarness(environment: [:])
            let done = await eventually(timeout: .seconds(60), every: .milliseconds(250)) {
                let count = try? await database.withTenant(first.organisationID) { connection in
                    var count = 0
                    for try await value in try await connection.query("""
                        SELECT count(*)::bigint FROM communications
                        WHERE organisation_id = \(first.organisationID) AND source_ref LIKE 'generic:kill-%' AND ended_at IS NOT NULL AND answered_at IS NOT NULL
                        """, logger: database.logger).decode(Int.self) { count = value }
                    return count
                }
                return count == calls
            }
            await second.stop()
            #expect(done)
        }
    }
}
}
