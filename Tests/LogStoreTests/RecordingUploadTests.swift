import CommlogDomain
import Foundation
import LogStore
import NIOCore
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Recordings stored a chunk at a time, against the real PostgreSQL: complete uploads only, nothing left behind.
@Suite("LogStore: recording uploads")
struct RecordingUploadTests {
    static func chunks(of call: UUID, org: String, in database: Database) async throws -> [UUID: Int] {
        try await database.withTenant(org) { connection in
            var counts: [UUID: Int] = [:]
            for try await (upload, count) in try await connection.query(
                "SELECT upload_id, count(*)::int FROM recording_chunks WHERE organisation_id = \(org) AND communication_id = \(call) GROUP BY upload_id",
                logger: database.logger
            ).decode((UUID, Int).self) { counts[upload] = count }
            return counts
        }
    }

    @Test("an upload that lost a chunk is refused; a complete one is named; the same audio again and a discarded attempt leave no chunks")
    func uploads() async throws {
        try await TestEnvironment.withDatabase { database in
            let org = TestEnvironment.unique("org-rec")
            let logger = TestEnvironment.logger
            let call = try await database.withTenant(org) { connection in
                let state = PhoneCallState(direction: .inbound, occurredAt: Date(), answeredAt: nil, endedAt: nil, outcome: nil, durationSeconds: nil,
                                           closesAtOnce: false, clientID: nil, address: nil, ambiguous: false, participants: [])
                return try #require(try await PhoneCallLog(connection: connection, logger: logger).apply(state, sourceRef: "generic:\(UUID())")).communicationID
            }
            let audio = (0..<(2 * RecordingUpload.chunkSize + 777)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            func upload() async throws -> RecordingUpload {
                var upload = RecordingUpload(database: database, organisationID: org, communicationID: call, logger: logger)
                for start in stride(from: 0, to: audio.count, by: 100_000) {
                    try await upload.append(ByteBuffer(bytes: audio[start..<min(start + 100_000, audio.count)]))
                }
                try await upload.finish()
                return upload
            }
            func store(_ upload: RecordingUpload) async throws -> Bool {
                try await database.withTenant(org) { connection in
                    try await PhoneCallLog(connection: connection, logger: logger)
                        .storeRecording(url: "https://pbx.example/r.wav", contentType: "audio/wav", upload: upload, communicationID: call)
                }
            }

            // Another replica's cleanup took a chunk: the upload is not named, and the batch is tried again.
            let damaged = try await upload()
            try await database.withTenant(org) { connection in
                try await connection.query("DELETE FROM recording_chunks WHERE organisation_id = \(org) AND upload_id = \(damaged.id) AND position = 1",
                                           logger: logger)
            }
            await #expect(throws: PhoneCallLog.IncompleteUpload.self) { _ = try await store(damaged) }

            let complete = try await upload()
            #expect(complete.size == audio.count)
            #expect(try await store(complete))
            #expect(try await Self.chunks(of: call, org: org, in: database) == [complete.id: 3])  // the damaged upload's chunks are gone too

            // The same audio downloaded again: nothing changes, and the new upload's chunks go.
            #expect(try await !store(try await upload()))
            #expect(try await Self.chunks(of: call, org: org, in: database) == [complete.id: 3])

            // A failed attempt discards what it wrote.
            let failed = try await upload()
            await failed.discard()
            #expect(try await Self.chunks(of: call, org: org, in: database) == [complete.id: 3])
        }
    }
}
