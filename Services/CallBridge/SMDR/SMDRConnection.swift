import Foundation
import NIOCore
import NIOPosix

/// One TCP connection to a PBX's SMDR port, read line by line.
///
/// The PBX is the server: it streams a record as each call ends and buffers records while nobody is connected.
enum SMDRConnection {
    /// Longest line kept; anything longer is not an SMDR record.
    static let maximumLine = 4096

    /// Connects and calls `onLine` for every line until the PBX closes the connection (returns) or it fails (throws).
    /// `onConnected` runs once the connection is up.
    static func read(
        host: String, port: Int, connectTimeout: TimeAmount = .seconds(10),
        onConnected: () async -> Void,
        onLine: (String) async throws -> Void
    ) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        await onConnected()
        try await channel.executeThenClose { inbound, _ in
            var lines = SMDRLineSplitter(maximumLine: maximumLine)
            for try await buffer in inbound {
                for line in lines.append(buffer.readableBytesView) { try await onLine(line) }
            }
            // The last record, when the PBX closed right after it without a line end.
            if let last = lines.finish() { try await onLine(last) }
        }
    }
}
