import Auth
import CommlogRuntime
import Foundation
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus

/// query-api as an application: its router (the middleware, the OpenAPI handlers, health, readiness and metrics)
/// and the services it needs (the pool, the broker connections, the announcer and the live streams). The
/// program runs it; the tests run it in process (HummingbirdTesting) against the real database and broker.
func buildApplication(_ infrastructure: Infrastructure, registry: PrometheusCollectorRegistry) async throws -> some ApplicationProtocol {
    let configuration = infrastructure.configuration
    let keys = try await tokenKeys(configuration)
    let heartbeat = try configuration.reader.positiveInt(.liveHeartbeat)
    let announcer = Announcer(connection: infrastructure.publishing, logger: infrastructure.logger)
    let live = LiveHub(connection: infrastructure.consuming, database: infrastructure.database, heartbeat: .seconds(heartbeat), logger: infrastructure.logger)

    let router = Router()
    router.add(middleware: ProblemMiddleware(translate: QueryAPIProblems.translate))
    router.add(middleware: HeaderEncodingMiddleware())
    router.add(middleware: AuthMiddleware(keys: keys))
    router.add(middleware: RequestBodyMiddleware())
    router.add(middleware: PreEncodedBodyMiddleware())
    router.addOpenAPIDocument()
    let handlers = QueryHandlers(
        database: infrastructure.database, announcer: announcer, live: live, cursors: PageCursorSigner(database: infrastructure.database),
        phoneRegion: try configuration.phoneRegion(), logger: infrastructure.logger
    )
    try handlers.registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.withoutEscapingSlashes]))
    return infrastructure.application(services: [announcer, live], router: router, registry: registry)
}

/// HS256 with `COMMLOG_JWT_SECRET` and/or RS256/ES256 with the keys of `COMMLOG_JWT_PUBLIC_KEYS_FILE`.
func tokenKeys(_ configuration: ProgramConfiguration) async throws -> StaffTokenKeys {
    let secret = configuration.jwtSecret
    if let secret, secret.utf8.count < StaffTokenKeys.minimumSecretLength {
        throw ConfigurationError(key: .jwtSecret, "must be at least \(StaffTokenKeys.minimumSecretLength) bytes (got \(secret.utf8.count))")
    }
    var pem: String?
    if let path = configuration.jwtPublicKeysFile {
        do {
            pem = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: .jwtPublicKeysFile, "cannot read \(path): \(error.localizedDescription)")
        }
    }
    guard secret != nil || pem != nil else {
        throw ConfigurationError(key: .jwtSecret, "is required by query-api (or COMMLOG_JWT_PUBLIC_KEYS_FILE for RS256/ES256 tokens)")
    }
    var policy = StaffTokenPolicy(audience: configuration.string(.jwtAudience), maximumLifetime: TimeInterval(try configuration.positiveInt(.jwtMaxLifetime)))
    if let issuers = configuration.string(.jwtIssuers) {
        do {
            policy.issuers = try StaffTokenPolicy.issuers(issuers)
        } catch {
            throw ConfigurationError(key: .jwtIssuers, "\(error)")
        }
    }
    do {
        return try await StaffTokenKeys.make(secret: secret, publicKeysPEM: pem, policy: policy)
    } catch {
        throw ConfigurationError(key: .jwtPublicKeysFile, "\(error)")
    }
}
