import Auth
import CommlogDomain
import Foundation
import Storage
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A call from the phone system as staff see it: call-bridge and query-api, both real programs.
extension CallBridgeProcesses {
@Suite(.serialized, .timeLimit(.minutes(5)))
struct QueryAPIEndToEndTests {
    static let jwtSecret = "end-to-end-secret-of-sufficient-length"

    @Test("a full inbound call pops up for its handler, is an open call with its recording, and the handler ends it")
    func handlerSeesAndEndsTheCall() async throws {
        let audio = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try await RecordingServer.with(audio: audio) { url in
            try await TestEnvironment.withDatabase { database in
                let bridge = try await CallBridgeHarness()
                let directory = try await Directory.standard(for: bridge, in: database)
                let apiPort = freePort()
                let api = try ProgramProcess("query-api", environment: ["COMMLOG_HTTP_PORT": "\(apiPort)", "COMMLOG_JWT_SECRET": Self.jwtSecret])
                let keys = try await StaffTokenKeys.hmac(secret: Self.jwtSecret)
                let token = try await keys.sign(StaffClaims(staffID: "s-201", organisationID: bridge.organisationID, roles: [.staff], expires: Date().addingTimeInterval(600)))
                let authorization = "Bearer \(token)"
                #expect(await eventually(timeout: .seconds(30)) { (try? await CallBridgeHarness.request(port: apiPort, "GET", "/readyz").status) == 200 })

                // The handler's page is open: the call pops up as it rings.
                let stream = NSTemporaryDirectory() + "call-live-\(UUID().uuidString).txt"
                let curl = try ChildProcess(executable: "/usr/bin/curl", arguments: [
                    "-sN", "-H", "Authorization: \(authorization)", "http://127.0.0.1:\(apiPort)/v1/live",
                ], environment: [:], outputPath: stream)
                defer { try? FileManager.default.removeItem(atPath: stream) }
                #expect(await eventually { ((try? String(contentsOfFile: stream, encoding: .utf8)) ?? "").contains(": connected") })
                #expect(try await bridge.post(callEvent("e2e-1", seq: 1, kind: "ringing", extension: "201", at: 0)).status == 202)
                #expect(await eventually { ((try? String(contentsOfFile: stream, encoding: .utf8)) ?? "").contains("event: call.opened") })

                for event in [
                    callEvent("e2e-1", seq: 2, kind: "answered", extension: "201", at: 5),
                    callEvent("e2e-1", seq: 3, kind: "ended", outcome: "answered", duration: 95, at: 100),
                    callEvent("e2e-1", seq: 4, kind: "recording", recording: url, at: 101),
                ] {
                    #expect(try await bridge.post(event).status == 202)
                }
                _ = try #require(try await directory.waitForCall("e2e-1") { $0.recordingSHA256 != nil && $0.endedAt != nil })

                let open = try await CallBridgeHarness.request(port: apiPort, "GET", "/v1/calls/open", authorization: authorization)
                let items = (try JSONSerialization.jsonObject(with: open.body) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                #expect(items.count == 1)
                let call = try #require(items.first)
                let id = try #require(call["id"] as? String)
                #expect(call["status"] as? String == "open")
                #expect(call["client_id"] as? String == "c-ann")
                #expect(call["has_recording"] as? Bool == true)
                #expect(call["duration_s"] as? Int == 95)
                let recording = try await CallBridgeHarness.request(port: apiPort, "GET", "/v1/communications/\(id)/recording", authorization: authorization)
                #expect(recording.status == 200)
                #expect(Array(recording.body) == audio)
                #expect(recording.contentType == "audio/wav")

                let ended = try await CallBridgeHarness.request(port: apiPort, "POST", "/v1/calls/\(id)/end", authorization: authorization)
                #expect(ended.status == 200)
                #expect((try JSONSerialization.jsonObject(with: ended.body) as? [String: Any])?["status"] as? String == "closed")
                // A late event from the phone changes nothing any more.
                #expect(try await bridge.post(callEvent("e2e-1", seq: 5, kind: "ended", outcome: "answered", duration: 96, at: 102)).status == 202)
                try await Task.sleep(for: .seconds(1))
                let after = try await CallBridgeHarness.request(port: apiPort, "GET", "/v1/communications/\(id)", authorization: authorization)
                #expect((try JSONSerialization.jsonObject(with: after.body) as? [String: Any])?["status"] as? String == "closed")
                let openAfter = try await CallBridgeHarness.request(port: apiPort, "GET", "/v1/calls/open", authorization: authorization)
                #expect(((try JSONSerialization.jsonObject(with: openAfter.body) as? [String: Any])?["items"] as? [Any])?.isEmpty == true)
                #expect(((try? String(contentsOfFile: stream, encoding: .utf8)) ?? "").contains("event: call.updated"))

                curl.signal(SIGTERM)
                _ = await curl.wait()
                await api.kill(SIGTERM)
                await bridge.stop()
            }
        }
    }
}
}
