import CommlogDomain
import Foundation
import LogStore
import PostgresNIO
import Storage
import Synchronization
import Testing
import TestSupport
@testable import CallBridge

@Suite struct SMDRRecordTests {
    @Test("standard and extended layouts, long calls, attendant, transfer, no year")
    func parsing() throws {
        let standard = SMDRLayout()
        #expect(SMDRLine().text().count == 90)
        #expect(SMDRLine().text(extended: true).count == 101)
        let record = try #require(SMDRRecord(line: SMDRLine(longCall: "%", duration: "00:12:03", transfer: "T", third: "202").text(), layout: standard))
        #expect(record.longCall == "%")
        #expect(record.durationSeconds == 723)
        #expect(record.direction == .inbound)
        #expect(record.timeToAnswer == 5)
        #expect(record.calledParty == "201")
        #expect(record.transfer == "T")
        #expect(record.thirdParty == "202")

        let extended = SMDRLayout(extendedDigits: true, aniDNIS: true, networkFormat: true)
        let line = SMDRLine(time: "02:05p", calling: "T1001", attendant: "*", called: "2001", ani: "0412345678", dnis: "0390001000", callID: "A000123").text(extended: true)
        let wide = try #require(SMDRRecord(line: line, layout: extended))
        #expect(wide.hour == 14 && wide.minute == 5)
        #expect(wide.attendant)
        #expect(wide.calledParty == "2001")
        #expect(wide.ani == "0412345678")
        #expect(wide.dnis == "0390001000")
        #expect(wide.callID == "A000123")

        let missed = try #require(SMDRRecord(line: SMDRLine(answer: "***", completion: " ").text(), layout: standard))
        #expect(missed.outcome == .missed)
        let outbound = try #require(SMDRRecord(line: SMDRLine(calling: "201", answer: "", digits: "0412345678", called: "T12").text(), layout: standard))
        #expect(outbound.direction == .outbound)
        let busy = try #require(SMDRRecord(line: SMDRLine(calling: "201", digits: "0412345678", completion: "B", called: "T12").text(), layout: standard))
        #expect(busy.outcome == .busy)

        let stationToStation = try #require(SMDRRecord(line: SMDRLine(calling: "201", answer: "", digits: "202", called: "202").text(), layout: standard))
        #expect(stationToStation.isInternal)
        #expect(!outbound.isInternal)

        // Hotel room-status messages and headers are not records.
        #expect(SMDRRecord(line: "STATUS ROOM 0412 CLEAN       MAID 07", layout: standard) == nil)
        #expect(SMDRRecord(line: String(repeating: "x", count: 95), layout: standard) == nil)
    }

    @Test("signed or over-long numbers are no record: a duration of -1:00:00 or +0:00:10, a time to answer of -5")
    func signedNumbers() {
        let layout = SMDRLayout()
        #expect(SMDRRecord(line: SMDRLine(duration: "-1:00:00").text(), layout: layout) == nil)
        #expect(SMDRRecord(line: SMDRLine(duration: "+0:00:10").text(), layout: layout) == nil)
        #expect(SMDRRecord(line: SMDRLine(duration: "00:-1:10").text(), layout: layout) == nil)
        #expect(SMDRRecord(line: SMDRLine(answer: "-5").text(), layout: layout)?.timeToAnswer == nil)
        #expect(SMDRRecord(line: SMDRLine(duration: "00:00:10").text(), layout: layout)?.durationSeconds == 10)
    }

    @Test("lines split however the stream is chunked; an over-long line is dropped whole, up to its newline")
    func lineSplitting() {
        var splitter = SMDRLineSplitter(maximumLine: 10)
        #expect(splitter.append(Array("one\ntw".utf8)) == ["one"])
        #expect(splitter.append(Array("o\n\nthree".utf8)) == ["two", ""])
        #expect(splitter.append(Array("-and-more-than-ten".utf8)).isEmpty)
        #expect(splitter.append(Array("-still\nfour\n".utf8)) == ["four"])
        #expect(splitter.droppedLines == 1)
        #expect(splitter.append(Array("five".utf8)).isEmpty)
        #expect(splitter.finish() == "five")
        // Many lines in one chunk: each byte looked at once (a 2 MB chunk of short lines is quick).
        var many = SMDRLineSplitter()
        let chunk = Array(String(repeating: "0123456789\n", count: 200_000).utf8)
        #expect(many.append(chunk).count == 200_000)
    }

    @Test("the year is chosen so that no call lies in the future")
    func year() throws {
        let zone = try #require(TimeZone(identifier: "Australia/Melbourne"))
        let now = try #require(RFC3339.date(from: "2026-11-25T09:00:00Z"))  // 20:00 in Melbourne
        let december = try #require(SMDRRecord(line: SMDRLine(date: "12/31").text(), layout: SMDRLayout()))
        #expect(december.start(in: zone, now: now) == RFC3339.date(from: "2025-12-30T22:30:00Z"))
        let january = try #require(SMDRRecord(line: SMDRLine(date: "01/15").text(), layout: SMDRLayout()))
        #expect(january.start(in: zone, now: now) == RFC3339.date(from: "2026-01-14T22:30:00Z"))
        let today = try #require(SMDRRecord(line: SMDRLine(date: "11/25", time: "19:45").text(), layout: SMDRLayout()))
        #expect(today.start(in: zone, now: now) == RFC3339.date(from: "2026-11-25T08:45:00Z"))
    }

    @Test("a transferred call has both handlers; an unanswered one rings its extension")
    func events() throws {
        let link = UUID()
        let start = Date(timeIntervalSince1970: 1_000_000)
        let line = SMDRLine(transfer: "T", third: "202").text()
        let record = try #require(SMDRRecord(line: line, layout: SMDRLayout()))
        let facts = try #require(CallFacts(record.events(start: start, linkID: link, line: line)))
        #expect(facts.extensions == ["201", "202"])
        #expect(facts.answeredAt == start.addingTimeInterval(5))
        #expect(facts.endedAt == start.addingTimeInterval(100))
        #expect(facts.outcome == .answered)
        #expect(record.events(start: start, linkID: link, line: line).map(\.callID) == record.events(start: start, linkID: link, line: line + "  ").map(\.callID))
    }
}

/// The real call-bridge reading fake PBXs.
extension CallBridgeProcesses {
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SMDRLinkTests {
    func addLink(_ database: Database, organisation: String, port: Int, layout: String) async throws -> UUID {
        try await database.withTenant(organisation) { connection in
            var id: UUID?
            for try await row in try await connection.query(
                "INSERT INTO smdr_links (organisation_id, host, port, layout) VALUES (\(organisation), '127.0.0.1', \(port), \(layout)::jsonb) RETURNING id",
                logger: database.logger
            ).decode(UUID.self) { id = row }
            return id!
        }
    }

    func disableLinks(_ database: Database, organisation: String) async throws {
        try await database.withTenant(organisation) { connection in
            try await connection.query("UPDATE smdr_links SET enabled = false WHERE organisation_id = \(organisation)", logger: database.logger)
        }
    }

    /// The organisation's SMDR calls as the log reads them back, shortest first (those without a duration last).
    func smdrCalls(_ database: Database, organisation: String) async throws -> [StoredEntry] {
        try await database.withTenant(organisation) { connection in
            try await EntryReader(connection: connection, logger: database.logger).entries(source: .phone)
                .filter { $0.sourceRef?.hasPrefix("mitel-smdr:") == true }
                .sorted { ($0.durationSeconds ?? .max) < ($1.durationSeconds ?? .max) }
        }
    }

    @Test("records of several layouts, a reconnect after the PBX drops the connection, and skipped lines")
    func stream() async throws {
        try await TestEnvironment.withDatabase { database in
            let bridge = try await CallBridgeHarness(environment: ["COMMLOG_SMDR_ENABLED": "true"])
            let directory = try await Directory.standard(for: bridge, in: database)
            try await directory.staff("s-202", extension: "202")
            try await directory.staff("s-2001", extension: "2001")
            let organisation = bridge.organisationID
            // Standard layout: first connection sends two records and a room-status line, then the PBX drops it;
            // the records written meanwhile come on the next connection.
            let standard = [
                [
                    SMDRLine(duration: "00:00:11", calling: "T12").text(),
                    "STATUS ROOM 0412 CLEAN       MAID 07",
                    SMDRLine(longCall: "+", duration: "00:45:00", calling: "T12", transfer: "T", third: "202").text(),
                ],
                [
                    SMDRLine(duration: "00:00:22", calling: "T12", answer: "***", completion: " ").text(),
                    SMDRLine(duration: "00:00:33", calling: "201", answer: "", digits: "0412345678", called: "T14").text(),
                ],
            ]
            // Extended digits with ANI/DNIS and network format: an attendant-answered call transferred to 2001.
            let extended = [[
                SMDRLine(date: "12/31", duration: "00:00:44", calling: "T1001", attendant: "*", called: "ATT", transfer: "T", third: "2001",
                         ani: "0412345678", dnis: "0390001000", callID: "A0001").text(extended: true),
            ]]
            try await FakePBX.with(sessions: standard) { standardPort, standardConnections in
                try await FakePBX.with(sessions: extended) { extendedPort, _ in
                    _ = try await addLink(database, organisation: organisation, port: standardPort, layout: "{}")
                    _ = try await addLink(database, organisation: organisation, port: extendedPort,
                                          layout: #"{"extended_digits": true, "ani_dnis": true, "network_format": true}"#)
                    let all = try await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
                        // Every record is an ended call: wait until all five are, not only opened.
                        let calls = try await smdrCalls(database, organisation: organisation)
                        return calls.count == 5 && calls.allSatisfy { $0.outcome != nil } && calls[4].participantRefs.count == 2
                    }
                    let calls = try await smdrCalls(database, organisation: organisation)
                    let metrics = String(decoding: try await bridge.request("GET", "/metrics").body, as: UTF8.self)
                    try await disableLinks(database, organisation: organisation)
                    await bridge.stop()
                    #expect(metrics.contains("commlog_smdr_lines_skipped_total 1"), "\(metrics.split(separator: "\n").filter { $0.contains("smdr") })")
                    #expect(metrics.contains("commlog_smdr_records_total 5"))
                    #expect(all, "got \(calls.count) calls")
                    #expect(standardConnections.count.load(ordering: .relaxed) >= 2)
                    guard calls.count == 5 else { return }
                    // 11 s: inbound on a trunk without ANI, answered by 201.
                    #expect(calls[0].status == .open && calls[0].outcome == .answered)
                    #expect(calls[0].participantRefs == ["handler:staff:s-201"])
                    // 22 s: nobody answered: closed at once.
                    #expect(calls[1].status == .closed && calls[1].outcome == .missed)
                    // 33 s: outbound from 201 to the client.
                    #expect(calls[2].participantRefs == ["callee:client:c-ann", "handler:staff:s-201"])
                    // 44 s: attendant answered, transferred to 2001; the caller matched through ANI; last year's 31 December.
                    #expect(calls[3].participantRefs == ["caller:client:c-ann", "callee:external:+61390001000", "handler:staff:s-2001"])
                    var calendar = Calendar(identifier: .gregorian)
                    calendar.timeZone = TimeZone(identifier: "Australia/Melbourne")!
                    #expect(calendar.component(.month, from: calls[3].occurredAt) == 12)
                    #expect(calls[3].occurredAt < Date())
                    // 45 min (long call flag +): transferred from 201 to 202.
                    #expect(calls[4].durationSeconds == 2700)
                    #expect(calls[4].participantRefs == ["handler:staff:s-201", "handler:staff:s-202"])
                    let skipped = try await database.withTenant(organisation) { connection in
                        var total = 0
                        for try await value in try await connection.query(
                            "SELECT sum(skipped_total)::bigint FROM smdr_links WHERE organisation_id = \(organisation)", logger: database.logger
                        ).decode(Int.self) { total = value }
                        return total
                    }
                    #expect(skipped == 1)
                }
            }
        }
    }

    @Test("a record that can never be published and an over-long line are skipped; the records after them are logged")
    func hostileRecords() async throws {
        try await TestEnvironment.withDatabase { database in
            let bridge = try await CallBridgeHarness(environment: ["COMMLOG_SMDR_ENABLED": "true"])
            _ = try await Directory.standard(for: bridge, in: database)
            let organisation = bridge.organisationID
            let session = [
                SMDRLine(duration: "-1:00:00", calling: "T12").text(),
                String(repeating: "9", count: 5_000) + SMDRLine(duration: "00:00:07", calling: "T12").text(),
                SMDRLine(duration: "00:00:12", calling: "T12").text(),
            ]
            try await FakePBX.with(sessions: [session]) { port, _ in
                _ = try await addLink(database, organisation: organisation, port: port, layout: "{}")
                let logged = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    try await smdrCalls(database, organisation: organisation).contains { $0.durationSeconds == 12 && $0.outcome != nil }
                }
                let calls = try await smdrCalls(database, organisation: organisation)
                try await disableLinks(database, organisation: organisation)
                await bridge.stop()
                #expect(logged)
                #expect(calls.map(\.durationSeconds) == [12], "the long line's tail must not be read as a record")
            }
        }
    }

    @Test("only one replica holds an SMDR link; another takes it over when the holder dies")
    func oneReplica() async throws {
        try await TestEnvironment.withDatabase { database in
            let settings = ["COMMLOG_SMDR_LEASE_S": "3", "COMMLOG_SMDR_ENABLED": "true"]
            let replicaA = try await CallBridgeHarness(environment: settings.merging(["COMMLOG_INSTANCE_ID": TestEnvironment.unique("replica-a")]) { $1 })
            let organisation = replicaA.organisationID
            let directory = Directory(database: database, organisationID: organisation)
            try await directory.setUp(secret: replicaA.secret)
            let sessions = [
                [SMDRLine(duration: "00:00:07", calling: "T12").text()],
                [SMDRLine(duration: "00:00:08", calling: "T12").text()],
            ]
            try await FakePBX.with(sessions: sessions, keepOpen: true) { port, connections in
                let replicaB = try await CallBridgeHarness(environment: settings.merging(["COMMLOG_INSTANCE_ID": TestEnvironment.unique("replica-b")]) { $1 })
                let link = try await addLink(database, organisation: organisation, port: port, layout: "{}")
                let firstCall = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    try await smdrCalls(database, organisation: organisation).count == 1
                }
                // Both replicas have had several chances to take the link: still one connection.
                try await Task.sleep(for: .seconds(6))
                let whileHeld = connections.count.load(ordering: .relaxed)
                var holder = ""
                for try await name in try await database.client.query(
                    "SELECT holder FROM leases WHERE name = \("smdr:" + link.uuidString.lowercased())", logger: database.logger
                ).decode(String.self) { holder = name }
                // SIGKILL: the lease is not released; the other replica takes over once it expires.
                let (dead, survivor) = holder.hasPrefix("replica-a") ? (replicaA, replicaB) : (replicaB, replicaA)
                await dead.process.kill()
                let both = try await eventually(timeout: .seconds(40), every: .milliseconds(200)) {
                    try await smdrCalls(database, organisation: organisation).count == 2
                }
                try await disableLinks(database, organisation: organisation)
                await survivor.stop()
                #expect(holder.hasPrefix("replica-"))
                #expect(firstCall)
                #expect(whileHeld == 1)
                #expect(both)
                #expect(connections.count.load(ordering: .relaxed) == 2)
            }
        }
    }

    @Test("a replica that stops gives its link up at once: the other connects well before the lease would expire")
    func gracefulHandover() async throws {
        try await TestEnvironment.withDatabase { database in
            let settings = ["COMMLOG_SMDR_LEASE_S": "60", "COMMLOG_SMDR_ENABLED": "true"]
            let replicaA = try await CallBridgeHarness(environment: settings.merging(["COMMLOG_INSTANCE_ID": TestEnvironment.unique("replica-a")]) { $1 })
            let organisation = replicaA.organisationID
            try await Directory(database: database, organisationID: organisation).setUp(secret: replicaA.secret)
            let sessions = [
                [SMDRLine(duration: "00:00:05", calling: "T12").text()],
                [SMDRLine(duration: "00:00:06", calling: "T12").text()],
            ]
            try await FakePBX.with(sessions: sessions, keepOpen: true) { port, connections in
                let replicaB = try await CallBridgeHarness(environment: settings.merging(["COMMLOG_INSTANCE_ID": TestEnvironment.unique("replica-b")]) { $1 })
                let link = try await addLink(database, organisation: organisation, port: port, layout: "{}")
                let first = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    try await smdrCalls(database, organisation: organisation).count == 1
                }
                var holder = ""
                for try await name in try await database.client.query(
                    "SELECT holder FROM leases WHERE name = \("smdr:" + link.uuidString.lowercased())", logger: database.logger
                ).decode(String.self) { holder = name }
                let (leaving, staying) = holder.hasPrefix("replica-a") ? (replicaA, replicaB) : (replicaB, replicaA)
                await leaving.stop()
                // Well under the 60 s lease: the lease was released on shutdown.
                let both = try await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
                    try await smdrCalls(database, organisation: organisation).count == 2
                }
                try await disableLinks(database, organisation: organisation)
                await staying.stop()
                #expect(first)
                #expect(both)
                #expect(connections.count.load(ordering: .relaxed) == 2)
            }
        }
    }
}
}

extension StoredEntry {
    /// The participants as `role:kind:ref` (the address when unmatched).
    var participantRefs: [String] { participants.map { "\($0.role.rawValue):\($0.kind.rawValue):\($0.id ?? $0.address ?? "-")" } }
}
