import CommlogDomain
import CommlogRuntime
import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// `GET /v1/live` through the real query-api, read with curl as a browser's EventSource would.
@Suite("query-api: live updates")
struct LiveTests {
    /// A `curl -N` reading one event stream into a file.
    final class Stream: Sendable {
        let path = NSTemporaryDirectory() + "live-\(UUID().uuidString).txt"
        let process: ChildProcess

        init(_ api: QueryAPIHarness, token: String, lastEventID: String? = nil) throws {
            var arguments = ["-sN", "-H", "Authorization: Bearer \(token)", "-H", "Accept: text/event-stream"]
            if let lastEventID { arguments += ["-H", "Last-Event-ID: \(lastEventID)"] }
            arguments.append("http://localhost:\(api.port)/v1/live")
            process = try ChildProcess(executable: "/usr/bin/curl", arguments: arguments, environment: [:], outputPath: path)
        }

        var text: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

        /// The events received so far: (id, name, data).
        var events: [(id: String, name: String, data: [String: Any])] {
            text.components(separatedBy: "\n\n").compactMap { block in
                var id = "", name = "", data: [String: Any] = [:]
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") {
                        data = (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]) ?? [:]
                    }
                }
                return name.isEmpty ? nil : (id, name, data)
            }
        }

        func names(for communication: String) -> [String] {
            events.filter { $0.data["communication_id"] as? String == communication }.map(\.name)
        }

        func close() async {
            process.signal(SIGTERM)
            _ = await process.wait()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    @Test("staff receive the events of entries they may see and of their calls, with heartbeats, and resume with Last-Event-ID")
    func visibilityFilteredStream() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness(environment: ["COMMLOG_LIVE_HEARTBEAT_S": "1"])
            let org = api.organisationID
            try await database.withTenant(org) { connection in
                try await connection.query("INSERT INTO related_staff (organisation_id, client_id, staff_id) VALUES (\(org), 'c-1', 's-rel')", logger: database.logger)
            }
            let related = try Stream(api, token: try await api.token("s-rel", [.staff]))
            let stranger = try Stream(api, token: try await api.token("s-none", [.staff]))
            let manager = try Stream(api, token: try await api.token("m-1", [.manager]))
            let foreign = try Stream(api, token: try await api.token("m-1", [.manager], organisation: TestEnvironment.unique("org-other")))
            #expect(try await eventually { related.text.contains(": connected") && foreign.text.contains(": connected") })

            // A note on c-1's timeline: the related staff member and the manager hear of it; nobody else does.
            let author = try await api.token("s-author", [.staff])
            let note = try await api.send("POST", "/v1/communications", token: author, json: ["type": "note", "client_id": "c-1"])
            let noteID = try #require(note.json["id"] as? String)
            #expect(try await eventually { related.names(for: noteID) == ["communication.logged"] && manager.names(for: noteID) == ["communication.logged"] })
            let edited = try await api.send("PATCH", "/v1/communications/\(noteID)", token: author, json: ["notes": "more"], headers: ["If-Match": "*"])
            #expect(edited.status == 200)
            #expect(try await eventually { related.names(for: noteID) == ["communication.logged", "communication.updated"] })
            let logged = try #require(related.events.first { $0.data["communication_id"] as? String == noteID })
            #expect(logged.data["client_id"] as? String == "c-1")
            #expect(logged.data["type"] as? String == "note")
            #expect(logged.data["staff_ids"] as? [String] == ["s-author"])

            // A call for s-h: call.* events go to its handler only, not to the manager's board.
            let handlerStream = try Stream(api, token: try await api.token("s-h", [.staff]))
            #expect(try await eventually { handlerStream.text.contains(": connected") })
            let ids = try await api.insert([CallsAndContentTests.call(api, "live", handler: "s-h", client: "c-9")], database: database)
            let callID = ids["generic:live"]!
            // What call-bridge publishes after it opens a call.
            let opened = """
                {"id": "\(UUID().uuidString)", "type": "call.opened", "version": 1, "occurred_at": "2026-11-25T09:31:05Z",
                 "organisation_id": "\(org)", "data": {"communication_id": "\(callID)", "type": "phone", "status": "open",
                 "client_id": "c-9", "staff_ids": ["s-h"]}}
                """
            try await TestEnvironment.withConnection { connection in
                try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "call.opened", body: Array(opened.utf8), mandatory: false))
            }
            #expect(try await eventually { handlerStream.names(for: callID) == ["call.opened"] })
            let ended = try await api.send("POST", "/v1/calls/\(callID)/end", token: try await api.token("s-h", [.staff]))
            #expect(ended.status == 200)
            #expect(try await eventually { handlerStream.names(for: callID) == ["call.opened", "call.updated", "communication.updated"] })
            #expect(manager.names(for: callID) == ["communication.updated"], "call.* events are for the staff the call involves")

            #expect(try await eventually { stranger.text.contains(": keep-alive") })
            #expect(stranger.events.isEmpty)
            #expect(foreign.events.isEmpty)

            // Reconnecting with the id of the first event replays what followed; an id the replica does not
            // hold (another replica's, or too old) replays nothing and the stream starts from now.
            let resumed = try Stream(api, token: try await api.token("s-rel", [.staff]), lastEventID: logged.id)
            #expect(try await eventually { resumed.names(for: noteID) == ["communication.updated"] })
            let unknown = try Stream(api, token: try await api.token("s-rel", [.staff]), lastEventID: "1-999999999")
            #expect(try await eventually { unknown.text.contains(": connected") })

            // A notification that cannot be read is dropped; the streams carry on.
            try await TestEnvironment.withConnection { connection in
                try await connection.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "communication.logged", body: Array("not json".utf8), mandatory: false))
            }
            let later = try await api.send("POST", "/v1/communications", token: author, json: ["type": "note", "client_id": "c-1"])
            let laterID = try #require(later.json["id"] as? String)
            #expect(try await eventually { unknown.names(for: laterID) == ["communication.logged"] && related.names(for: laterID) == ["communication.logged"] })
            #expect(unknown.names(for: noteID).isEmpty)
            for stream in [related, stranger, manager, foreign, handlerStream, resumed, unknown] { await stream.close() }
            await api.stop()
        }
    }

    @Test("forged notices go nowhere: an injected event name, an entry that does not exist, another organisation's entry")
    func forgedNotices() async throws {
        try await TestEnvironment.withDatabase { database in
            let api = try await QueryAPIHarness()
            let other = try await QueryAPIHarness()
            let manager = try Stream(api, token: try await api.token("m-1", [.manager]))
            #expect(try await eventually { manager.text.contains(": connected") })
            let otherNote = try await other.send("POST", "/v1/communications", token: try await other.token("s-1", [.staff]), json: ["type": "note", "client_id": "c-1"])
            let otherID = try #require(otherNote.json["id"] as? String)

            let organisation = api.organisationID
            @Sendable func notice(type: String, routingKey: String, communication: String) -> OutgoingMessage {
                let body = try! JSONSerialization.data(withJSONObject: [
                    "id": UUID().uuidString, "type": type, "version": 1, "occurred_at": "2026-11-25T09:31:05Z", "organisation_id": organisation,
                    "data": ["communication_id": communication, "type": "phone", "status": "open", "client_id": "c-1", "staff_ids": ["m-1"]],
                ] as [String: Any])
                return OutgoingMessage(exchange: Topology.eventsExchange, routingKey: routingKey, body: Array(body), mandatory: false)
            }
            try await TestEnvironment.withConnection { connection in
                try await connection.publish([
                    notice(type: "communication.logged\nevent: call.opened", routingKey: "communication.logged", communication: UUID().uuidString),
                    notice(type: "call.opened", routingKey: "call.opened", communication: UUID().uuidString),
                    notice(type: "communication.logged", routingKey: "communication.logged", communication: otherID),
                ])
            }
            // A real entry afterwards arrives: the forged ones before it were dropped, not delayed.
            let note = try await api.send("POST", "/v1/communications", token: try await api.token("s-2", [.staff]), json: ["type": "note", "client_id": "c-2"])
            let noteID = try #require(note.json["id"] as? String)
            #expect(try await eventually { manager.names(for: noteID) == ["communication.logged"] })
            #expect(manager.events.map(\.name) == ["communication.logged"], "\(manager.text)")
            #expect(!manager.text.contains("call.opened"))
            await manager.close()
            await api.stop()
            await other.stop()
        }
    }

    @Test("a stream ends when its token expires")
    func streamEndsAtExpiry() async throws {
        let api = try await QueryAPIHarness(environment: ["COMMLOG_LIVE_HEARTBEAT_S": "60"])
        let stream = try Stream(api, token: try await api.token("s-1", [.staff], expires: Date().addingTimeInterval(3)))
        #expect(try await eventually { stream.text.contains(": connected") })
        let ended = await eventually(timeout: .seconds(15), every: .milliseconds(200)) { stream.process.hasExited }
        #expect(ended, "the stream was still open 15 s after its token expired")
        await stream.close()
        await api.stop()
    }
}
