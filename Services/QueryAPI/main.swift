import Auth
import CommlogRuntime
import Foundation
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime

// query-api: the HTTP API staff use (timelines, board, notes, calls, live updates).
await ProgramRunner.run("query-api", defaultHTTPPort: 8080) { infrastructure, registry in
    guard let secret = infrastructure.configuration.jwtSecret else {
        throw ConfigurationError(key: .jwtSecret, "is required by query-api")
    }
    let keys: StaffTokenKeys
    do {
        keys = try await StaffTokenKeys.hmac(secret: secret)
    } catch {
        throw ConfigurationError(key: .jwtSecret, "\(error)")
    }
    let heartbeat = try infrastructure.configuration.reader.positiveInt(.liveHeartbeat)
    let announcer = Announcer(connection: infrastructure.publishing, logger: infrastructure.logger)
    let live = LiveHub(connection: infrastructure.consuming, database: infrastructure.database, heartbeat: .seconds(heartbeat), logger: infrastructure.logger)

    let router = Router()
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: HeaderEncodingMiddleware())
    router.add(middleware: AuthMiddleware(keys: keys))
    router.add(middleware: RequestBodyMiddleware())
    router.addOpenAPIDocument()
    try QueryHandlers(database: infrastructure.database, announcer: announcer, live: live, logger: infrastructure.logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder()))
    return infrastructure.serviceGroup(services: [announcer, live], router: router, registry: registry)
}
