import CommlogDomain
import Crypto
import Foundation
import LogStore
import PostgresNIO
import Storage
import Testing
import TestSupport

/// The JSON webhook and Twilio callbacks against the real call-bridge, PostgreSQL and RabbitMQ.
extension CallBridgeProcesses {
@Suite(.serialized, .timeLimit(.minutes(5)))
struct WebhookTests {
    /// Runs `body` with a running call-bridge and an organisation with client c-ann (0412 345 678) and staff s-201 (ext 201).
    func withBridge(_ body: @Sendable (CallBridgeHarness, Directory) async throws -> Void) async throws {
        try await TestEnvironment.withDatabase { database in
            let bridge = try await CallBridgeHarness()
            let directory = try await Directory.standard(for: bridge, in: database)
            do {
                try await body(bridge, directory)
            } catch {
                await bridge.stop()
                throw error
            }
            await bridge.stop()
        }
    }

    @Test("a full inbound call: ringing, answered, ended, recording → open, with its recording")
    func fullInboundCall() async throws {
        let audio = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await RecordingServer.with(audio: audio) { url in
            try await withBridge { bridge, directory in
                for event in [
                    callEvent("in-1", seq: 1, kind: "ringing", extension: "201", at: 0),
                    callEvent("in-1", seq: 2, kind: "answered", extension: "201", at: 5),
                    callEvent("in-1", seq: 3, kind: "ended", outcome: "answered", duration: 95, at: 100),
                    callEvent("in-1", seq: 4, kind: "recording", recording: url, at: 101),
                ] {
                    #expect(try await bridge.post(event).status == 202)
                }
                // Every program of the suites consumes call-bridge.calls: an event may reach a replica that is
                // stopping and come back later, so wait for all four to be applied.
                let call = try #require(try await directory.waitForCall("in-1") {
                    $0.recordingSHA256 != nil && $0.endedAt != nil && $0.answeredAt != nil && $0.occurredAt == Date(timeIntervalSince1970: 1_795_000_000)
                })
                #expect(call.status == .open)
                #expect(call.closedAt == nil)
                #expect(call.outcome == .answered)
                #expect(call.durationSeconds == 95)
                #expect(call.direction == .inbound)
                #expect(call.answeredAt == Date(timeIntervalSince1970: 1_795_000_005))
                #expect(call.endedAt == Date(timeIntervalSince1970: 1_795_000_100))
                #expect(call.occurredAt == Date(timeIntervalSince1970: 1_795_000_000))
                #expect(call.clientID == "c-ann")
                #expect(call.address == "+61412345678")
                #expect(!call.ambiguous)
                #expect(call.participants == ["caller:client:c-ann:+61412345678", "callee:external:-:+61390001000", "handler:staff:s-201:201"])
                #expect(call.recordingSize == Int64(audio.count))
                #expect(call.recordingSHA256 == SHA256.hash(data: audio).map { String(format: "%02x", $0) }.joined())
            }
        }
    }

    @Test("duplicated and shuffled events give the same call")
    func duplicatesAndShuffles() async throws {
        try await withBridge { bridge, directory in
            func events(_ id: String) -> [String] {
                [
                    callEvent(id, seq: 1, kind: "ringing", extension: "201", at: 0),
                    callEvent(id, seq: 2, kind: "answered", extension: "201", at: 4),
                    callEvent(id, seq: 3, kind: "answered", extension: "202", at: 30),
                    callEvent(id, seq: 4, kind: "ended", outcome: "answered", duration: 60, at: 64),
                ]
            }
            #expect(try await bridge.post("[" + events("ordered").joined(separator: ",") + "]").status == 202)
            let shuffled = events("shuffled")
            for index in [3, 1, 3, 0, 2, 1, 0] {
                #expect(try await bridge.post(shuffled[index]).status == 202)
            }
            for id in ["ordered", "shuffled"] {
                _ = try #require(try await directory.waitForCall(id) { $0.endedAt != nil && $0.participants.count == 4 && $0.answeredAt?.timeIntervalSince1970 == 1_795_000_004 })
            }
            // Let every duplicate land, then compare.
            try await Task.sleep(for: .seconds(1))
            let ordered = try #require(try await directory.call(source: "generic", callID: "ordered"))
            var mixed = try #require(try await directory.call(source: "generic", callID: "shuffled"))
            // The same call but for its id, its key and how many changes it took to get there.
            mixed.entry.id = ordered.id
            mixed.entry.sourceRef = ordered.sourceRef
            mixed.entry.version = ordered.version
            #expect(mixed == ordered)
            #expect(ordered.participants.last == "handler:external:-:202")
        }
    }

    @Test("a missed call is logged and closed at once")
    func missedCall() async throws {
        try await withBridge { bridge, directory in
            #expect(try await bridge.post("[" + [
                callEvent("missed-1", seq: 1, kind: "ringing", extension: "201", at: 0),
                callEvent("missed-1", seq: 2, kind: "ended", outcome: "missed", at: 20),
            ].joined(separator: ",") + "]").status == 202)
            let call = try #require(try await directory.waitForCall("missed-1") { $0.endedAt != nil })
            #expect(call.status == .closed)
            #expect(call.outcome == .missed)
            #expect(call.closedAt == call.endedAt)
            #expect(call.answeredAt == nil)
            #expect(call.participants.contains("handler:staff:s-201:201"))
        }
    }

    @Test("an outbound call matches the callee")
    func outboundCall() async throws {
        try await withBridge { bridge, directory in
            #expect(try await bridge.post("[" + [
                callEvent("out-1", seq: 1, kind: "ringing", direction: "outbound", from: "+61390001000", to: "0412345678", extension: "201", at: 0),
                callEvent("out-1", seq: 2, kind: "answered", direction: "outbound", from: "+61390001000", to: "0412345678", extension: "201", at: 8),
                callEvent("out-1", seq: 3, kind: "ended", direction: "outbound", from: "+61390001000", to: "0412345678", outcome: "answered", duration: 30, at: 38),
            ].joined(separator: ",") + "]").status == 202)
            let call = try #require(try await directory.waitForCall("out-1") { $0.endedAt != nil })
            #expect(call.direction == .outbound)
            #expect(call.status == .open)
            #expect(call.clientID == "c-ann")
            #expect(call.participants == ["callee:client:c-ann:+61412345678", "caller:external:-:+61390001000", "handler:staff:s-201:201"])
        }
    }

    @Test("an unknown number is logged without a client")
    func unknownNumber() async throws {
        try await withBridge { bridge, directory in
            #expect(try await bridge.post(callEvent("unknown-1", seq: 1, kind: "ringing", from: "+61 400 000 999", extension: "201", at: 0)).status == 202)
            let call = try #require(try await directory.waitForCall("unknown-1"))
            #expect(call.status == .open)
            #expect(call.clientID == nil)
            #expect(!call.ambiguous)
            #expect(call.participants.first == "caller:external:-:+61400000999")
        }
    }

    @Test("a number shared by two clients links both and flags the call ambiguous")
    func sharedNumber() async throws {
        try await withBridge { bridge, directory in
            try await directory.client("c-bob", phones: ["+61 400 111 222"])
            try await directory.client("c-cat", phones: ["0400111222"])
            #expect(try await bridge.post(callEvent("shared-1", seq: 1, kind: "answered", from: "+61400111222", extension: "201", at: 0)).status == 202)
            let call = try #require(try await directory.waitForCall("shared-1"))
            #expect(call.ambiguous)
            #expect(call.clientID == "c-bob")
            #expect(call.participants.filter { $0.hasPrefix("caller:client:") }.sorted() == ["caller:client:c-bob:+61400111222", "caller:client:c-cat:+61400111222"])
        }
    }

    @Test("Twilio status and recording callbacks")
    func twilioCallbacks() async throws {
        let audio = Array("RIFF....WAVEfmt twilio".utf8)
        try await RecordingServer.with(audio: audio) { url in
            try await withBridge { bridge, directory in
                let base = ["CallSid": "CA123", "From": "+61412345678", "To": "+61390001000", "Direction": "inbound", "Extension": "201"]
                #expect(try await bridge.twilio("status", base.merging(["CallStatus": "ringing", "Timestamp": "Wed, 18 Nov 2026 09:30:00 +0000"]) { $1 }).status == 202)
                #expect(try await bridge.twilio("status", base.merging(["CallStatus": "in-progress", "Timestamp": "Wed, 18 Nov 2026 09:30:06 +0000"]) { $1 }).status == 202)
                #expect(try await bridge.twilio("status", base.merging(["CallStatus": "completed", "CallDuration": "42", "Timestamp": "Wed, 18 Nov 2026 09:30:48 +0000"]) { $1 }).status == 202)
                #expect(try await bridge.twilio("recording", ["CallSid": "CA123", "RecordingUrl": url, "RecordingStatus": "completed"]).status == 202)
                let call = try #require(try await directory.waitForCall(source: "twilio", "CA123") { $0.recordingSHA256 != nil && $0.endedAt != nil })
                #expect(call.status == .open)
                #expect(call.outcome == .answered)
                #expect(call.durationSeconds == 42)
                #expect(call.clientID == "c-ann")
                #expect(call.participants.contains("handler:staff:s-201:201"))
                #expect(call.recordingSize == Int64(audio.count))

                #expect(try await bridge.twilio("status", ["CallSid": "CA124", "From": "+61412345678", "To": "+61390001000", "CallStatus": "no-answer"]).status == 202)
                let missed = try #require(try await directory.waitForCall(source: "twilio", "CA124"))
                #expect(missed.status == .closed)
                #expect(missed.outcome == .missed)

                let bad = try await bridge.twilio("status", ["From": "+61412345678"])
                #expect(bad.status == 400)
                #expect(bad.contentType == "application/problem+json")
            }
        }
    }

    @Test("a bad body and a wrong secret are 4xx problems")
    func badInput() async throws {
        try await withBridge { bridge, _ in
            let garbage = try await bridge.post("{not json")
            #expect(garbage.status == 400)
            #expect(garbage.contentType == "application/problem+json")
            let missing = try await bridge.post(#"{"source":"generic","call_id":"x","kind":"ringing","occurred_at":"2026-11-25T09:31:05Z"}"#)
            #expect(missing.status == 400)
            #expect((missing.json["detail"] as? String)?.contains("seq") == true)
            let badKind = try await bridge.post("[" + callEvent("bad-1", seq: 1, kind: "ringing", at: 0) + "," + callEvent("bad-1", seq: 2, kind: "teleported", at: 1) + "]")
            #expect(badKind.status == 400)
            let outcome = try await bridge.post(callEvent("bad-2", seq: 1, kind: "ringing", outcome: "missed", at: 0))
            #expect(outcome.status == 400)

            let wrong = try await bridge.post(callEvent("w-1", seq: 1, kind: "ringing", at: 0), secret: "not-the-secret")
            #expect(wrong.status == 401)
            #expect(wrong.contentType == "application/problem+json")
            let otherOrganisation = try await bridge.post(callEvent("w-1", seq: 1, kind: "ringing", at: 0), organisation: "org-somebody-else")
            #expect(otherOrganisation.status == 401)
            let unknown = try await bridge.request("POST", "/v1/organisations/\(bridge.organisationID)/call-event", body: "{}")
            #expect(unknown.status == 404)
            #expect(unknown.contentType == "application/problem+json")
            #expect((unknown.json["detail"] as? String)?.hasPrefix("no such resource") == true)
            let none = try await bridge.request("POST", "/v1/organisations/\(bridge.organisationID)/call-events", body: callEvent("w-1", seq: 1, kind: "ringing", at: 0))
            #expect(none.status == 401)
            #expect(none.authenticate == "Bearer")
        }
    }

    @Test("numbers the columns cannot hold, NUL characters and over-long strings are a 400 with the field, never a dead letter")
    func hostileBodies() async throws {
        try await withBridge { bridge, _ in
            let bodies: [(String, String)] = [
                (callEvent("big-1", seq: 2_147_483_648, kind: "ringing", at: 0), "seq"),
                (callEvent("big-2", seq: 1, kind: "ended", duration: 2_147_483_648, at: 0), "duration_s"),
                (callEvent("big-3", seq: 9_999_999_999_999_999, kind: "ringing", at: 0), "seq"),
                (callEvent("nul\\u0000-1", seq: 1, kind: "ringing", at: 0), "NUL"),
                (callEvent("nul-2", seq: 1, kind: "ringing", from: "+6141\\u0000", at: 0), "NUL"),
                (callEvent("long-1", seq: 1, kind: "ringing", from: String(repeating: "1", count: 101), at: 0), "from"),
                (callEvent(String(repeating: "c", count: 201), seq: 1, kind: "ringing", at: 0), "call_id"),
                (callEvent("long-2", seq: 4, kind: "recording", recording: "https://example.org/" + String(repeating: "r", count: 2_100), at: 0), "recording_url"),
            ]
            for (body, field) in bodies {
                let reply = try await bridge.post(body)
                #expect(reply.status == 400, "\(field): \(reply.status)")
                #expect((reply.json["detail"] as? String)?.contains(field) == true, "\(reply.json)")
            }
            // A backslash that is itself escaped is text, not an escape.
            #expect(try await bridge.post(callEvent("text\\\\u0000", seq: 1, kind: "ringing", at: 0)).status == 202)
        }
    }

    /// Posts a form with curl, as Twilio would (URLSession answers a Basic challenge itself and would hang
    /// waiting for credentials); returns the status and the `WWW-Authenticate` header.
    static func curl(port: Int, path: String, form: String, basic: String? = nil, headers: [String] = []) async throws -> (status: Int, authenticate: String?) {
        let output = NSTemporaryDirectory() + "curl-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var arguments = ["-s", "-o", "/dev/null", "-D", "-", "--max-time", "10", "-X", "POST",
                         "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", form]
        if let basic { arguments += ["-u", basic] }
        for header in headers { arguments += ["-H", header] }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        _ = try await ChildProcess(executable: "/usr/bin/curl", arguments: arguments, environment: [:], outputPath: output).wait()
        let lines = (try String(contentsOfFile: output, encoding: .utf8)).components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        let authenticate = lines.first { $0.lowercased().hasPrefix("www-authenticate:") }.map { String($0.dropFirst("www-authenticate:".count)).trimmingCharacters(in: .whitespaces) }
        return (status, authenticate)
    }

    @Test("Twilio: a callback without credentials is challenged with Basic and the repeat with them is accepted; NUL is refused")
    func twilioChallenge() async throws {
        try await withBridge { bridge, _ in
            let form = "CallSid=CA-challenge&CallStatus=ringing&From=%2B61412345678&To=%2B61390001000&Direction=inbound"
            let path = "/v1/organisations/\(bridge.organisationID)/twilio/status"
            let first = try await Self.curl(port: bridge.port, path: path, form: form)
            #expect(first.status == 401)
            #expect(first.authenticate?.hasPrefix("Basic") == true, "\(first.authenticate ?? "no challenge")")
            let second = try await Self.curl(port: bridge.port, path: path, form: form, basic: "twilio:\(bridge.secret)")
            #expect(second.status == 202)
            let nul = try await Self.curl(port: bridge.port, path: path, form: form + "&Extension=20%001", basic: "twilio:\(bridge.secret)")
            #expect(nul.status == 400)
        }
    }

    /// The signature Twilio's own helper library (the `twilio` package, `RequestValidator`) computes.
    static func twilioSignature(token: String, url: String, form: String) async throws -> String {
        let output = NSTemporaryDirectory() + "twilio-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let script = """
            import sys, urllib.parse
            from twilio.request_validator import RequestValidator
            print(RequestValidator(sys.argv[1]).compute_signature(sys.argv[2], dict(urllib.parse.parse_qsl(sys.argv[3], keep_blank_values=True))))
            """
        let status = try await ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", script, token, url, form],
                                            environment: ProcessInfo.processInfo.environment, outputPath: output).wait()
        let text = try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == 0, "\(text)")
        return text
    }

    @Test("Twilio with an auth token: X-Twilio-Signature as Twilio's helper library signs it is required, and checked")
    func twilioSignature() async throws {
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await TestEnvironment.withDatabase { database in
            let bridge = try await CallBridgeHarness(environment: ["COMMLOG_SECRET_KEY": key])
            _ = try await Directory.standard(for: bridge, in: database)
            let token = "auth-token-\(UUID().uuidString)"
            let added = try await commlogCommand(["call-integration", "add", "--org", bridge.organisationID, "--twilio"], input: token,
                                                 environment: ["COMMLOG_SECRET_KEY": key])
            #expect(added.status == 0, "\(added.output)")
            let secret = try #require(added.output.split(separator: "\n").last.map(String.init))
            let path = "/v1/organisations/\(bridge.organisationID)/twilio/status"
            let form = "CallSid=CA-signed&CallStatus=ringing&From=%2B61412345678&To=%2B61390001000&Direction=inbound&Extension=201"
            let signature = try await Self.twilioSignature(token: token, url: "http://127.0.0.1:\(bridge.port)\(path)", form: form)
            let basic = "twilio:\(secret)"
            let signed = try await Self.curl(port: bridge.port, path: path, form: form, basic: basic, headers: ["X-Twilio-Signature: \(signature)"])
            let unsigned = try await Self.curl(port: bridge.port, path: path, form: form, basic: basic)
            let otherBody = try await Self.curl(port: bridge.port, path: path, form: form + "&Evil=1", basic: basic, headers: ["X-Twilio-Signature: \(signature)"])
            let otherToken = try await Self.twilioSignature(token: "not-the-token", url: "http://127.0.0.1:\(bridge.port)\(path)", form: form)
            let forged = try await Self.curl(port: bridge.port, path: path, form: form, basic: basic, headers: ["X-Twilio-Signature: \(otherToken)"])
            // The integration without a token (the harness's) needs no signature.
            let plain = try await Self.curl(port: bridge.port, path: path, form: form.replacingOccurrences(of: "CA-signed", with: "CA-plain"),
                                            basic: "twilio:\(bridge.secret)")
            await bridge.stop()
            #expect(signed.status == 202)
            #expect(unsigned.status == 401)
            #expect(otherBody.status == 401)
            #expect(forged.status == 401)
            #expect(plain.status == 202)
        }
    }

    @Test("an end without outcome that arrives first closes the call until the answer arrives; a call staff ended stays closed")
    func lateEventsAndStaffClosure() async throws {
        try await withBridge { bridge, directory in
            #expect(try await bridge.post(callEvent("late-1", seq: 3, kind: "ended", duration: 40, at: 45)).status == 202)
            let early = try #require(try await directory.waitForCall("late-1"))
            #expect(early.status == .closed && early.outcome == .missed)
            #expect(try await bridge.post("[" + callEvent("late-1", seq: 1, kind: "ringing", extension: "201", at: 0) + "," +
                                          callEvent("late-1", seq: 2, kind: "answered", extension: "201", at: 5) + "]").status == 202)
            let answered = try #require(try await directory.waitForCall("late-1") { $0.answeredAt != nil })
            #expect(answered.status == .open)
            #expect(answered.outcome == .answered)
            #expect(answered.closedAt == nil)

            // A staff member ends the call (as query-api does: closed, audited end_call); the phone's late news changes facts, not the status.
            try await directory.database.withTenant(bridge.organisationID) { connection in
                _ = try await connection.query(
                    "UPDATE communications SET status = 'closed', closed_at = now(), version = version + 1 WHERE id = \(answered.id)", logger: directory.database.logger)
                _ = try await connection.query("""
                    INSERT INTO audit_history (organisation_id, communication_id, staff_id, action) VALUES (\(bridge.organisationID), \(answered.id), 's-201', 'end_call')
                    """, logger: directory.database.logger)
            }
            #expect(try await bridge.post(callEvent("late-1", seq: 3, kind: "ended", outcome: "answered", duration: 40, at: 45)).status == 202)
            #expect(try await bridge.post(callEvent("late-1", seq: 4, kind: "ended", outcome: "failed", at: 46)).status == 202)
            let ended = try #require(try await directory.waitForCall("late-1") { $0.outcome == .failed })
            #expect(ended.status == .closed)
            #expect(ended.closedAt != nil && ended.closedAt != ended.endedAt)
        }
    }

    @Test("a call dated ahead of its receipt is ordered by its receipt and keeps the phone's time; the same events again change nothing")
    func futureCall() async throws {
        try await withBridge { bridge, directory in
            let ahead = 300_000_000  // about ten years after the other calls of these tests
            let events = [
                callEvent("future-1", seq: 1, kind: "ringing", extension: "201", at: ahead),
                callEvent("future-1", seq: 2, kind: "ended", outcome: "missed", at: ahead + 30),
            ]
            let before = Date()
            for event in events { #expect(try await bridge.post(event).status == 202) }
            let call = try #require(try await directory.waitForCall("future-1") { $0.endedAt != nil })
            #expect(call.occurredAt <= Date() && call.occurredAt >= before.addingTimeInterval(-1))

            func stored() async throws -> (claimed: Date?, version: Int, participantTimes: Set<Date>) {
                try await directory.database.withTenant(directory.organisationID) { connection in
                    var result: (Date?, Int, Set<Date>) = (nil, 0, [])
                    for try await (claimed, version) in try await connection.query(
                        "SELECT claimed_at, version FROM communications WHERE organisation_id = \(directory.organisationID) AND id = \(call.id)",
                        logger: TestEnvironment.logger
                    ).decode((Date?, Int).self) {
                        result.0 = claimed
                        result.1 = version
                    }
                    for try await time in try await connection.query(
                        "SELECT occurred_at FROM participants WHERE organisation_id = \(directory.organisationID) AND communication_id = \(call.id)",
                        logger: TestEnvironment.logger
                    ).decode(Date.self) {
                        result.2.insert(time)
                    }
                    return result
                }
            }
            let first = try await stored()
            #expect(first.claimed == Date(timeIntervalSince1970: 1_795_000_000 + TimeInterval(ahead)))
            #expect(first.participantTimes == [call.occurredAt])

            // Redelivered: the phone's time is compared with the time it gave, not with the receipt.
            for event in events { #expect(try await bridge.post(event).status == 202) }
            try await Task.sleep(for: .seconds(1))
            let again = try await stored()
            #expect(again.version == first.version)
            #expect(again.claimed == first.claimed)
            #expect(try await directory.waitForCall("future-1")?.occurredAt == call.occurredAt)
        }
    }

    @Test("a recording of several chunks streams into storage; an attempt broken off midway leaves nothing behind")
    func chunkedRecording() async throws {
        let audio = (0..<(3 * 1024 * 1024 + 4321)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 11) }
        try await RecordingServer.with(audio: audio, host: "127.0.0.1") { server in
            try await withBridge { bridge, directory in
                let url = "\(server.base)/broken/call.wav"
                for event in [
                    callEvent("chunked-1", seq: 1, kind: "ringing", extension: "201", at: 0),
                    callEvent("chunked-1", seq: 2, kind: "recording", recording: url, at: 60),
                ] {
                    #expect(try await bridge.post(event).status == 202)
                }
                let call = try #require(try await directory.waitForCall("chunked-1") { $0.recordingSHA256 != nil })
                #expect(call.recordingSize == Int64(audio.count))
                #expect(call.recordingSHA256 == SHA256.hash(data: audio).map { String(format: "%02x", $0) }.joined())
                #expect(server.requests == 2)  // the broken attempt, then the whole one

                let chunks = try await directory.database.withTenant(directory.organisationID) { connection in
                    var chunks: [(upload: UUID, position: Int, bytes: [UInt8])] = []
                    for try await (upload, position, bytes) in try await connection.query("""
                        SELECT upload_id, position, bytes FROM recording_chunks
                        WHERE organisation_id = \(directory.organisationID) AND communication_id = \(call.id) ORDER BY position
                        """, logger: TestEnvironment.logger).decode((UUID, Int, ByteBuffer).self) {
                        chunks.append((upload, position, Array(buffer: bytes)))
                    }
                    return chunks
                }
                // One upload of 1 MiB chunks (the broken attempt's chunks are gone), together the recording.
                #expect(Set(chunks.map(\.upload)).count == 1)
                #expect(chunks.map(\.position) == [0, 1, 2, 3])
                #expect(chunks.dropLast().allSatisfy { $0.bytes.count == 1024 * 1024 })
                #expect(chunks.flatMap(\.bytes) == audio)
            }
        }
    }
}
}
