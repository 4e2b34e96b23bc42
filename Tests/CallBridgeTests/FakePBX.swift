import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A Mitel PBX's SMDR port inside the test: a TCP server that streams records to whoever connects.
///
/// Each connection gets the next session's lines; every session but the last ends with the PBX closing the
/// connection (as when it restarts), the last stays open.
enum FakePBX {
    final class Connections: Sendable {
        let count = Atomic<Int>(0)
    }

    /// - Parameter keepOpen: every session stays open until the client goes (not only the last).
    static func with<Result: Sendable>(
        sessions: [[String]],
        keepOpen: Bool = false,
        _ body: @Sendable (_ port: Int, _ connections: Connections) async throws -> Result
    ) async throws -> Result {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress!.port!
        let connections = Connections()
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { sessionsGroup in
                        for try await connection in inbound {
                            let session = connections.count.add(1, ordering: .relaxed).newValue - 1
                            let lines = session < sessions.count ? sessions[session] : []
                            let stays = keepOpen || session >= sessions.count - 1
                            sessionsGroup.addTask {
                                try? await connection.executeThenClose { clientInput, outbound in
                                    for line in lines {
                                        try await outbound.write(ByteBuffer(string: line + "\r\n"))
                                    }
                                    // Until the client goes away (or the test ends).
                                    if stays { for try await _ in clientInput {} }
                                }
                            }
                        }
                    }
                }
                return nil
            }
            defer { group.cancelAll() }
            return try await body(port, connections)
        }
    }
}

/// An SMDR record written column by column, as the PBX writes it (see docs/call-bridge.md for the columns).
struct SMDRLine {
    var longCall = " "
    var date = "01/15"
    var time = "09:30 "
    var duration = "00:01:35"
    var calling = "T12"
    var attendant = " "
    var answer = "005"
    var digits = ""
    var completion = "A"
    var forward = " "
    var called = "201"
    var transfer = " "
    var third = ""
    var account = ""
    var system = "001"
    var ani: String?
    var dnis: String?
    var callID: String?

    func text(extended: Bool = false) -> String {
        let width = extended ? 7 : 4
        func pad(_ text: String, _ length: Int) -> String { text.padding(toLength: length, withPad: " ", startingAt: 0) }
        var line = longCall + date + " " + pad(time, 6) + " " + duration + " " + pad(calling, width) + " " + attendant + pad(answer, 3) + " "
            + pad(digits, 26) + completion + forward + pad(called, width) + transfer + pad(third, width) + " " + pad(account, 12) + " "
            + pad(system, 3) + String(repeating: " ", count: extended ? 5 : 3)
        if ani != nil || dnis != nil { line += " " + pad(ani ?? "", 10) + " " + pad(dnis ?? "", 10) }
        if let callID { line += " " + pad(callID, 10) }
        return line
    }
}
