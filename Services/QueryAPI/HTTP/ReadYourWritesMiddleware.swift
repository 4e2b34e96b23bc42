import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Synchronization

/// With a read replica (`COMMLOG_DATABASE_READ_URL`), staff see their own changes at once: a staff member's read
/// goes to the replica only once it has replayed their last write, and to the primary until then.
///
/// After a successful write, the primary's log position is remembered for the writer in this process, and is
/// also handed to the client: as the cookie `commlog_written` (the page sends it to whichever replica of
/// query-api answers next) and as the header `Commlog-Position`, which an API client may send back as
/// `Commlog-Read-After`. A read's floor is the highest of the three; `ReadFloor.current` carries it to the
/// handlers, which read through `Database.forReading(after:)`.
struct ReadYourWritesMiddleware<Context: RequestContext>: RouterMiddleware {
    let database: Database
    let positions: WrittenPositions

    static var cookieName: String { "commlog_written" }
    static var positionHeader: HTTPField.Name { HTTPField.Name("Commlog-Position")! }
    static var readAfterHeader: HTTPField.Name { HTTPField.Name("Commlog-Read-After")! }
    /// How long the cookie keeps a write's position: longer than any replica lag worth reading from.
    static var cookieLifetime: Int { 300 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let caller = Caller.current else { return try await next(request, context) }
        guard !request.method.isSafe else {
            let floor = [
                positions[caller],
                request.cookies[Self.cookieName].flatMap { WALPosition($0.value) },
                request.headers[Self.readAfterHeader].flatMap { WALPosition($0.trimmingCharacters(in: .whitespaces)) },
            ].compactMap { $0 }.max()
            return try await ReadFloor.$current.withValue(floor) { try await next(request, context) }
        }
        var response = try await next(request, context)
        guard response.status.code < 400 else { return response }
        do {
            let position = try await database.writtenPosition()
            positions.record(position, for: caller)
            response.headers[Self.positionHeader] = position.description
            var cookie = "\(Self.cookieName)=\(position); Path=/; Max-Age=\(Self.cookieLifetime); HttpOnly; SameSite=Lax"
            if WebSession.isSecure(request) { cookie += "; Secure" }
            response.headers.append(HTTPField(name: .setCookie, value: cookie))
        } catch {
            // The write is done; without its position this process sends the writer's reads to the primary.
            positions.recordUnknown(for: caller)
        }
        return response
    }
}

/// The log position a read must see (the reader's own last write), for the handlers.
enum ReadFloor {
    @TaskLocal static var current: WALPosition?
}

/// Each staff member's last write in this process, kept for as long as a read could miss it.
final class WrittenPositions: Sendable {
    private struct Key: Hashable {
        let organisationID: String
        let staffID: String
    }

    /// The position and when it was written; the largest position stands for "unknown: read from the primary".
    private let positions = Mutex<[Key: (position: WALPosition, at: ContinuousClock.Instant)]>([:])
    /// How long a position is kept; after that, reads by the writer go wherever others' go.
    let lifetime: Duration
    /// Most writers remembered; beyond, the oldest entries are dropped first.
    let capacity: Int

    init(lifetime: Duration = .seconds(300), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    subscript(caller: Caller) -> WALPosition? {
        let key = Key(organisationID: caller.organisationID, staffID: caller.staffID)
        return positions.withLock { positions in
            guard let entry = positions[key] else { return nil }
            guard ContinuousClock.now - entry.at < lifetime else {
                positions[key] = nil
                return nil
            }
            return entry.position
        }
    }

    func record(_ position: WALPosition, for caller: Caller) {
        let key = Key(organisationID: caller.organisationID, staffID: caller.staffID)
        positions.withLock { positions in
            if positions.count >= capacity, positions[key] == nil {
                let now = ContinuousClock.now
                positions = positions.filter { now - $0.value.at < lifetime }
                if positions.count >= capacity, let oldest = positions.min(by: { $0.value.at < $1.value.at })?.key {
                    positions[oldest] = nil
                }
            }
            positions[key] = (max(position, positions[key]?.position ?? position), .now)
        }
    }

    func recordUnknown(for caller: Caller) {
        record(WALPosition(value: .max), for: caller)
    }
}
