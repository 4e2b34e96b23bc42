import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Storage

/// Writes one download of a call's recording into `recording_chunks` as it arrives (migration 0014), a chunk
/// per short transaction: at most one chunk of a recording is held in memory. The recording becomes visible
/// only when `CallStore.storeRecording` names the upload; until then (a failed attempt, a crash) its chunks are
/// never read, and they are removed by the next attempt's `PhoneCallLog.storeRecording` or `discard`.
public struct RecordingUpload: Sendable {
    /// Bytes per chunk: the unit query-api reads back too.
    public static let chunkSize = 1024 * 1024

    let database: Database
    let organisationID: String
    let communicationID: UUID
    let logger: Logger
    /// The upload's id: its chunks' `upload_id`.
    public let id = UUID()

    /// Bytes taken so far.
    public private(set) var size = 0
    private var hash = SHA256()
    private var pending = ByteBuffer()
    private var position: Int32 = 0

    public init(database: Database, organisationID: String, communicationID: UUID, logger: Logger) {
        self.database = database
        self.organisationID = organisationID
        self.communicationID = communicationID
        self.logger = logger
    }

    public var sha256: String { hash.finalize().map { String(format: "%02x", $0) }.joined() }

    /// Takes the next bytes of the download, writing every full chunk.
    public mutating func append(_ buffer: ByteBuffer) async throws {
        size += buffer.readableBytes
        buffer.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
        var buffer = buffer
        pending.writeBuffer(&buffer)
        while pending.readableBytes >= Self.chunkSize {
            try await write(pending.readSlice(length: Self.chunkSize)!)
        }
        pending.discardReadBytes()
    }

    /// Writes what is left (the last, shorter chunk).
    public mutating func finish() async throws {
        if pending.readableBytes > 0 || position == 0 {
            try await write(pending)
            pending.clear()
        }
    }

    /// Removes this upload's chunks (an attempt that failed); best effort, as the next attempt removes them too.
    public func discard() async {
        do {
            try await database.withTenant(organisationID) { connection in
                try await connection.query("""
                    DELETE FROM recording_chunks WHERE organisation_id = \(organisationID) AND upload_id = \(id)
                    """, logger: logger)
            }
        } catch {
            logger.warning("could not remove the chunks of a failed recording download", metadata: [
                "upload": "\(id)", "error": "\(PostgresFailure.describe(error))",
            ])
        }
    }

    private mutating func write(_ chunk: ByteBuffer) async throws {
        let position = self.position
        try await database.withTenant(organisationID) { [id, communicationID, organisationID, logger] connection in
            try await connection.query("""
                INSERT INTO recording_chunks (organisation_id, upload_id, communication_id, position, bytes)
                VALUES (\(organisationID), \(id), \(communicationID), \(position), \(chunk))
                """, logger: logger)
        }
        self.position += 1
    }
}
