import Foundation
import Storage
import Testing
import TestSupport
@testable import CallBridge

/// Which addresses count as public: everything else is refused unless the operator names the host.
@Suite struct IPAddressTests {
    @Test("public addresses", arguments: ["8.8.8.8", "1.1.1.1", "54.172.60.0", "2606:4700:4700::1111", "2a00:1450:4001:81c::200e"])
    func publicAddress(_ text: String) throws {
        #expect(try #require(IPAddress(text)).isPublic)
    }

    @Test("loopback, private, link-local, metadata, reserved and the IPv6 forms that carry them", arguments: [
        "127.0.0.1", "127.0.0.2", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.100.100.200",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.10", "::", "::1", "fd00:ec2::254", "fc00::1", "fe80::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2001:db8::1",
    ])
    func notPublic(_ text: String) throws {
        #expect(try !#require(IPAddress(text)).isPublic)
    }

    @Test func text() {
        #expect(IPAddress("2130706433") == nil)
        #expect(IPAddress("example.org") == nil)
        #expect(IPAddress("::ffff:7f00:1")?.description == "::ffff:127.0.0.1")
        #expect(IPAddress("10.1.2.3")?.description == "10.1.2.3")
    }
}

/// The checks a recording URL passes before anything connects, with resolvers the test controls.
@Suite struct RecordingSourcesTests {
    static func resolver(_ table: [String: [String]]) -> @Sendable (String) async throws -> [IPAddress] {
        { host in (table[host] ?? []).compactMap(IPAddress.init) }
    }

    @Test("a public name is pinned to the address that was checked")
    func pinned() async throws {
        let target = try await RecordingSources().target(for: URL(string: "https://recordings.example.com/r/1.wav")!,
                                                        resolve: Self.resolver(["recordings.example.com": ["8.8.4.4", "8.8.8.8"]]))
        #expect(target.host == "recordings.example.com")
        #expect(target.address == IPAddress("8.8.4.4"))
    }

    @Test("a name with any address that is not public is refused: one bad record is enough")
    func mixed() async throws {
        await #expect(throws: RecordingSources.Refusal.self) {
            try await RecordingSources().target(for: URL(string: "http://rebind.example.com/x")!,
                                                resolve: Self.resolver(["rebind.example.com": ["8.8.8.8", "169.254.169.254"]]))
        }
    }

    @Test("the system resolver's answers are checked too: localhost, a decimal address, an IPv6 literal")
    func systemResolver() async throws {
        for url in ["http://localhost:9/x", "http://2130706433:9/x", "http://[::1]:9/x", "http://127.1:9/x", "http://0x7f000001:9/x"] {
            await #expect(throws: RecordingSources.Refusal.self, "\(url)") {
                try await RecordingSources().target(for: URL(string: url)!)
            }
        }
    }

    @Test("a host named exactly may be private; one admitted through its domain may not; others are not asked")
    func named() async throws {
        let sources = RecordingSources(allowedHosts: ["pbx.example.org", ".example.org", "127.0.0.1"])
        let resolve = Self.resolver(["pbx.example.org": ["10.0.0.5"], "other.example.org": ["10.0.0.6"]])
        #expect(try await sources.target(for: URL(string: "http://pbx.example.org/r")!, resolve: resolve).address == IPAddress("10.0.0.5"))
        #expect(try await sources.target(for: URL(string: "http://127.0.0.1:8/r")!, resolve: resolve).address == IPAddress("127.0.0.1"))
        await #expect(throws: RecordingSources.Refusal.self) {
            try await sources.target(for: URL(string: "http://other.example.org/r")!, resolve: resolve)
        }
        await #expect(throws: RecordingSources.Refusal.self) {
            try await sources.target(for: URL(string: "http://127.0.0.2:8/r")!, resolve: resolve)
        }
        await #expect(throws: RecordingSources.Refusal.self) {
            try await sources.target(for: URL(string: "file:///etc/passwd")!, resolve: resolve)
        }
    }
}

/// The real program asked to fetch recordings from addresses it must not reach: each is dead-lettered with its
/// reason, and the server standing for the forbidden address sees no request at all.
extension CallBridgeProcesses {
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RecordingSourceTests {
    /// Posts a call with a recording at `url`, and waits for a dead letter whose reason contains `expected`; returns
    /// the organisation's dead-letter reasons (the directory must be set up: `Directory.setUp`).
    /// Posts a call whose recording is at `url` and waits until the organisation has `count` dead letters giving
    /// the reason `expected`; returns every reason.
    func refusal(of url: String, expecting expected: String, count: Int = 1, bridge: CallBridgeHarness, database: Database) async throws -> [String] {
        let directory = Directory(database: database, organisationID: bridge.organisationID)
        let callID = "ssrf-\(UUID().uuidString.prefix(8))"
        #expect(try await bridge.postRecordedCall(callID, recording: url) == 202)
        #expect(try await directory.waitForCall(callID) != nil)
        return await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            (try? await OperationsTests().deadLetterReasons(database, organisation: bridge.organisationID)) ?? []
        } until: { $0.filter { $0.contains(expected) }.count >= count }
    }

    @Test("by default nothing is fetched from loopback: not by address, not by name")
    func defaultRefusesLoopback() async throws {
        try await RecordingServer.with(audio: [1, 2, 3], host: "127.0.0.1") { server in
            try await TestEnvironment.withDatabase { database in
                let bridge = try await CallBridgeHarness(environment: ["COMMLOG_RECORDING_HOSTS": ""])
                try await Directory(database: database, organisationID: bridge.organisationID).setUp(secret: bridge.secret)
                let byAddress = "127.0.0.1 resolves to 127.0.0.1, which is not a public address"
                let byName = "localhost resolves to 127.0.0.1, which is not a public address"
                let first = try await refusal(of: server.url, expecting: byAddress, bridge: bridge, database: database)
                let reasons = try await refusal(of: server.url.replacingOccurrences(of: "127.0.0.1", with: "localhost"), expecting: byName, bridge: bridge, database: database)
                await bridge.stop()
                #expect(first.contains { $0.contains(byAddress) }, "\(first)")
                #expect(reasons.contains { $0.contains(byName) }, "\(reasons)")
                #expect(server.requests == 0)
            }
        }
    }

    @Test("a redirect from an allowed host to a private one is refused before it is followed")
    func redirectToPrivate() async throws {
        try await RecordingServer.with(audio: [9, 9], host: "127.0.0.2") { hidden in
            try await RecordingServer.with(audio: [1, 2, 3], host: "127.0.0.1") { allowed in
                try await TestEnvironment.withDatabase { database in
                    let bridge = try await CallBridgeHarness()  // COMMLOG_RECORDING_HOSTS=127.0.0.1
                    try await Directory(database: database, organisationID: bridge.organisationID).setUp(secret: bridge.secret)
                    let refused = "127.0.0.2 is not a host recordings may come from"
                    let redirected = try await refusal(of: allowed.redirect(to: hidden.url), expecting: refused, bridge: bridge, database: database)
                    let requestsAfterRedirect = allowed.requests
                    let direct = try await refusal(of: hidden.url, expecting: refused, count: 2, bridge: bridge, database: database)
                    await bridge.stop()
                    #expect(redirected.contains { $0.contains(refused) }, "\(redirected)")
                    #expect(direct.filter { $0.contains(refused) }.count == 2, "\(direct)")
                    #expect(requestsAfterRedirect >= 1)
                    #expect(allowed.requests >= 1)
                    #expect(hidden.requests == 0)
                }
            }
        }
    }

    @Test("a redirect within the allowed host is followed and the recording stored")
    func redirectWithinAllowed() async throws {
        let audio: [UInt8] = Array("RIFF....WAVE".utf8)
        try await RecordingServer.with(audio: audio, host: "127.0.0.1") { server in
            try await TestEnvironment.withDatabase { database in
                let bridge = try await CallBridgeHarness()
                let directory = Directory(database: database, organisationID: bridge.organisationID)
                try await directory.setUp(secret: bridge.secret)
                #expect(try await bridge.postRecordedCall("redir-ok", recording: server.redirect(to: "/recordings/call.wav")) == 202)
                let call = try await directory.waitForCall("redir-ok") { $0.recordingSHA256 != nil }
                await bridge.stop()
                #expect(call?.recordingSize == Int64(audio.count))
                #expect(server.requests == 2)
            }
        }
    }

    @Test("a slow recording of one organisation does not delay another organisation's call")
    func slowRecordingDelaysNoCall() async throws {
        let audio: [UInt8] = Array("RIFF-slow".utf8)
        try await RecordingServer.with(audio: audio, host: "127.0.0.1") { server in
            try await TestEnvironment.withDatabase { database in
                let bridge = try await CallBridgeHarness(environment: ["COMMLOG_RECORDING_TIMEOUT_S": "30"])
                let slow = Directory(database: database, organisationID: bridge.organisationID)
                try await slow.setUp(secret: bridge.secret)
                let other = Directory(database: database, organisationID: TestEnvironment.unique("org-other"))
                let otherSecret = "secret-\(UUID().uuidString)"
                try await other.setUp(secret: otherSecret)

                #expect(try await bridge.postRecordedCall("slow-1", recording: "\(server.base)/slow/10") == 202)
                try await waitUntil("asked for the recording", timeout: .seconds(10), every: .milliseconds(20)) { server.requests > 0 }
                let posted = ContinuousClock.now
                #expect(try await bridge.post(callEvent("quick-1", seq: 1, kind: "ringing", at: 20), secret: otherSecret, organisation: other.organisationID).status == 202)
                let quick = try await other.waitForCall("quick-1", timeout: .seconds(8))
                let elapsed = ContinuousClock.now - posted
                let recordingStoredMeanwhile = try await slow.call(source: "generic", callID: "slow-1")?.recordingSHA256 != nil
                let stored = try await slow.waitForCall("slow-1", timeout: .seconds(30)) { $0.recordingSHA256 != nil }
                await bridge.stop()
                #expect(quick != nil)
                #expect(!recordingStoredMeanwhile, "the other organisation's call must not wait for the recording")
                #expect(elapsed < .seconds(5), "listed after \(elapsed)")
                print("another organisation's call was listed \(elapsed) after it was posted, while a 10 s recording downloaded")
                #expect(stored?.recordingSize == Int64(audio.count))
            }
        }
    }
}
}
