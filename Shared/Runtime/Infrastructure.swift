import Foundation
import Hummingbird
import Logging
import Messaging
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals
import Storage

/// What every program is built on: the database pool, a publishing and a consuming AMQP connection,
/// the dead-letter archiver and the HTTP listener with health, readiness and metrics.
public struct Infrastructure: Sendable {
    public let program: String
    public let configuration: ProgramConfiguration
    public let logger: Logger
    public let database: Database
    /// Publishes with confirms; separate from `consuming` so that flow control on one never stalls the other.
    public let publishing: AMQPConnection
    public let consuming: AMQPConnection
    /// Queues whose consumer has not declared them yet: until it has, a publish to them is refused as unroutable,
    /// so the program is not ready (a webhook answered 503 on a fresh broker while `/readyz` said ready).
    let undeclaredQueues = UndeclaredQueues()

    public init(program: String, configuration: ProgramConfiguration, logger: Logger) {
        self.program = program
        self.configuration = configuration
        self.logger = logger
        var database = Database(configuration: configuration.database, logger: logger)
        if let readDatabase = configuration.readDatabase {
            database.replica = ReadReplica(configuration: readDatabase, logger: logger)
        }
        self.database = database
        var publisherConfiguration = configuration.amqp
        publisherConfiguration.connectionName = "\(program)-publish"
        publishing = AMQPConnection(configuration: publisherConfiguration, logger: logger)
        var consumerConfiguration = configuration.amqp
        consumerConfiguration.connectionName = "\(program)-consume"
        consuming = AMQPConnection(configuration: consumerConfiguration, logger: logger)
    }

    /// A quorum queue of this deployment: its delivery limit and length limits come from the broker's policy,
    /// and the consumer enforces `COMMLOG_DELIVERY_LIMIT` itself.
    public func queue(_ name: String, bindings: [String]) -> Topology.Queue {
        Topology.Queue(name: name, bindings: bindings)
    }

    /// The shared batching consumer loop for `queue`, committing through `handler`.
    /// The program is not ready until the consumer has declared its queue.
    /// - Parameters:
    ///   - defaultConcurrency: batches in flight unless `COMMLOG_CONSUMER_CONCURRENCY` says otherwise.
    ///   - adjust: the program's own batch settings on top of the configured ones.
    public func consumer<Handler: BatchHandler>(
        _ queue: Topology.Queue, handler: Handler, defaultConcurrency: Int = 1, adjust: (inout BatchConfiguration) -> Void = { _ in }
    ) -> BatchingConsumer<Handler> {
        var batching = configuration.consumer
        if !configuration.consumerConcurrencyIsSet { batching.concurrency = defaultConcurrency }
        adjust(&batching)
        undeclaredQueues.insert(queue.name)
        return BatchingConsumer(
            queue: queue,
            consumerConnection: consuming,
            publisher: publishing,
            handler: handler,
            configuration: batching,
            isTransient: PostgresFailure.isTransient,
            isResourceExhaustion: PostgresFailure.isResourceExhaustion,
            describe: PostgresFailure.describe,
            onDeclared: { [undeclaredQueues] in undeclaredQueues.remove(queue.name) },
            logger: logger
        )
    }

    /// Broker connected (both connections), every consumed queue declared, and database reachable.
    public var readiness: [ReadinessCheck] {
        [
            ReadinessCheck("amqp") { [publishing, consuming] in publishing.isConnected && consuming.isConnected },
            ReadinessCheck("queues") { [undeclaredQueues] in undeclaredQueues.isEmpty },
            ReadinessCheck("database") { [database] in await database.isReachable() },
        ]
    }

    /// Applies migrations first when `COMMLOG_MIGRATE_ON_START` is set.
    public func migrateIfConfigured() async throws {
        guard configuration.migrateOnStart else { return }
        let applied = try await Migrator.run(configuration: try configuration.ownerDatabase(), logger: logger)
        logger.info("migrations checked", metadata: ["applied": "\(applied)"])
    }

    /// The program's HTTP application with every service it needs, in dependency order: the application starts
    /// them before it listens and, on shutdown, stops listening first and then stops them in reverse, so
    /// consumers finish their batch before the connections and the pool close.
    /// - Parameters:
    ///   - services: the program's own services (consumers, pollers), after the infrastructure.
    ///   - router: the program's routes; health, readiness and metrics are added here.
    public func application(
        services: [any Service], router: Router<BasicRequestContext> = .instrumented(), registry: PrometheusCollectorRegistry
    ) -> Application<RouterResponder<BasicRequestContext>> {
        BuildInfo.register(program: program, registry: registry)
        let backlog = DeadLetterBacklog(database: database, registry: registry)
        router.addOperationsRoutes(readiness: readiness, registry: registry, scraped: [backlog.update])
        let archiver = consumer(DeadLetterArchiver.queue, handler: DeadLetterArchiver(database: database))
        return Application(
            router: router,
            // A connection that sends nothing for this long, in the middle of a request's head or body or
            // between requests, is closed (a slow or stalled client holds no connection for ever); a response
            // being streamed (a live stream) is not affected.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.httpIdleTimeoutSeconds)))),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: program),
            services: [database.client] + (database.replica.map { [$0.client] } ?? []) + [publishing, consuming, archiver, MemoryTrimmer(logger: logger)] + services,
            logger: logger
        )
    }

    /// The program's service group: its application, stopped by SIGTERM or SIGINT within a bounded time.
    public func serviceGroup(services: [any Service], router: Router<BasicRequestContext> = .instrumented(), registry: PrometheusCollectorRegistry) -> ServiceGroup {
        serviceGroup(running: application(services: services, router: router, registry: registry))
    }

    /// Runs `application` until SIGTERM or SIGINT within a bounded time.
    public func serviceGroup(running application: some ApplicationProtocol) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A stop finishes the batch in flight; whatever still hangs after that is cancelled, and the process
        // ends well inside a container platform's 30 s grace period.
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        configuration.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: configuration)
    }
}

/// Runs a program: reads its configuration, bootstraps logging and metrics, builds and runs its service group.
/// A configuration error, at start or while building, is printed plainly and ends the process with status 78 (EX_CONFIG).
public enum ProgramRunner {
    public static func run(
        _ program: String,
        defaultHTTPPort: Int,
        build: (Infrastructure, PrometheusCollectorRegistry) async throws -> ServiceGroup
    ) async {
        let configuration: ProgramConfiguration
        do {
            configuration = try ProgramConfiguration(program: program, defaultHTTPPort: defaultHTTPPort)
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(78)
        }
        let registry = Observability.bootstrap(logLevel: configuration.logLevel, format: configuration.logFormat)
        var logger = Logger(label: program)
        logger[metadataKey: "instance"] = "\(configuration.instanceID)"
        do {
            let traceExport = try TraceExport.bootstrap(program: program)
            let infrastructure = Infrastructure(program: program, configuration: configuration, logger: logger)
            try await infrastructure.migrateIfConfigured()
            logger.info("starting", metadata: ["http": "\(configuration.httpHost):\(configuration.httpPort)", "tracing": "\(traceExport != nil)"])
            let group = try await build(infrastructure, registry)
            if let traceExport {
                // Started first, stopped last: the program's services stop (on its signals), then the last spans go out.
                try await ServiceGroup(configuration: ServiceGroupConfiguration(services: [
                    .init(service: traceExport),
                    .init(service: group, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ], logger: logger)).run()
            } else {
                try await group.run()
            }
        } catch let error as ConfigurationError {
            // Found while building (a key only this program needs): the same plain message and status.
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(78)
        } catch {
            logger.critical("stopped with an error", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}

/// The names of the queues a program consumes that are not declared yet.
final class UndeclaredQueues: Sendable {
    private let names = Mutex<Set<String>>([])

    func insert(_ name: String) { names.withLock { _ = $0.insert(name) } }
    func remove(_ name: String) { names.withLock { _ = $0.remove(name) } }
    var isEmpty: Bool { names.withLock(\.isEmpty) }
}
