import Auth
import CommlogRuntime
import Foundation
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import Storage

/// query-api as an application: its router (the middleware, the OpenAPI handlers, health, readiness and metrics)
/// and the services it needs (the pool, the broker connections, the announcer and the live streams). The
/// program runs it; the tests run it in process (HummingbirdTesting) against the real database and broker.
func buildApplication(_ infrastructure: Infrastructure, registry: PrometheusCollectorRegistry) async throws -> some ApplicationProtocol {
    let configuration = infrastructure.configuration
    let keys = try await tokenKeys(configuration)
    let heartbeat = try configuration.reader.positiveInt(.liveHeartbeat)
    let announcer = Announcer(connection: infrastructure.publishing, logger: infrastructure.logger)
    let live = LiveHub(connection: infrastructure.consuming, database: infrastructure.database, heartbeat: .seconds(heartbeat), logger: infrastructure.logger)

    let router = Router.instrumented()
    router.add(middleware: ProblemMiddleware(translate: QueryAPIProblems.translate))
    router.add(middleware: HeaderEncodingMiddleware())
    router.add(middleware: AuthMiddleware(keys: keys))
    if infrastructure.database.replica != nil {
        router.add(middleware: ReadYourWritesMiddleware(database: infrastructure.database, positions: WrittenPositions()))
    }
    router.add(middleware: RequestBodyMiddleware())
    router.add(middleware: PreEncodedBodyMiddleware())
    router.addOpenAPIDocument()
    let frameAncestors = try webFrameAncestors(configuration)
    let pages = WebPages(
        renderer: try await PageRenderer(frameAncestors: frameAncestors), database: infrastructure.database,
        cursors: PageCursorSigner(database: infrastructure.database), keys: keys, framed: !frameAncestors.isEmpty, logger: infrastructure.logger
    )
    pages.register(on: router)
    let handlers = QueryHandlers(
        database: infrastructure.database, announcer: announcer, live: live, cursors: PageCursorSigner(database: infrastructure.database),
        phoneRegion: try configuration.phoneRegion(), logger: infrastructure.logger
    )
    try handlers.registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.withoutEscapingSlashes]))
    return infrastructure.application(services: [announcer, live], router: router, registry: registry)
}

/// The origins of `COMMLOG_UI_FRAME_ANCESTORS`: each `https://host[:port]` or `http://…`, nothing else (a
/// CSP source list could otherwise be widened with `*` or a keyword).
func webFrameAncestors(_ configuration: ProgramConfiguration) throws -> [String] {
    guard let value = configuration.string(.uiFrameAncestors) else { return [] }
    return try value.split(whereSeparator: { $0 == " " || $0 == "," }).map { origin in
        guard let url = URL(string: String(origin)), let scheme = url.scheme, scheme == "https" || scheme == "http", url.host?.isEmpty == false,
              url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil, !origin.contains("*") else {
            throw ConfigurationError(key: .uiFrameAncestors, "each origin must be like https://pms.example.org (got \(origin))")
        }
        return String(origin.hasSuffix("/") ? origin.dropLast() : origin)
    }
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
