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
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: ETagMiddleware())
    let keys: StaffTokenKeys
    do {
        keys = try await StaffTokenKeys.hmac(secret: secret)
    } catch {
        throw ConfigurationError(key: .jwtSecret, "\(error)")
    }
    router.add(middleware: AuthMiddleware(keys: keys))
    router.addOpenAPIDocument()
    try QueryHandlers(database: infrastructure.database, logger: infrastructure.logger)
        .registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder()))
    return infrastructure.serviceGroup(services: [], router: router, registry: registry)
}
