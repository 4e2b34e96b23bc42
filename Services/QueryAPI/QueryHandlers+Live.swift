import CommlogRuntime
import Foundation
import NIOCore
import OpenAPIRuntime
import ServiceLifecycle

extension QueryHandlers {
    /// `GET /v1/live`: the caller's Server-Sent Events, until the client goes away or the server shuts down.
    func streamLive(_ input: Operations.StreamLive.Input) async throws -> Operations.StreamLive.Output {
        let caller = try Self.caller()
        let frames = live.subscribe(caller, lastEventID: try Validate.header(input.headers.lastEventID, "Last-Event-ID"))
            .map { ArraySlice($0.readableBytesView) }
            .cancelOnGracefulShutdown()
        return .ok(.init(body: .textEventStream(HTTPBody(frames, length: .unknown, iterationBehavior: .single))))
    }
}
