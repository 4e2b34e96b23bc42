import CommlogRuntime
import Hummingbird
import ServiceLifecycle

/// What the call bridge is made of, built without a process so that tests can run it in place.
enum CallBridge {
    struct Parts {
        let handler: CallEventHandler
        /// The consumer side of `call-bridge.recordings`.
        let downloads: RecordingDownloadHandler
        let router: Router<BasicRequestContext>
        /// The SMDR supervisor and the auto-closer, as configured.
        let services: [any Service]
    }

    static func build(_ infrastructure: Infrastructure, settings: CallBridgeConfiguration, announcer: Announcer) -> Parts {
        let logger = infrastructure.logger
        var handler = CallEventHandler(
            database: infrastructure.database,
            announcer: announcer,
            matcher: PartyMatcher(region: settings.region, trailingDigits: settings.matchDigits),
            publisher: infrastructure.publishing,
            logger: logger
        )
        handler.publishers = infrastructure.configuration.publishers
        let downloads = RecordingDownloadHandler(
            database: infrastructure.database, announcer: announcer,
            fetcher: RecordingFetcher(configuration: settings.recordings, logger: logger), logger: logger
        )
        let publisher = CallEventPublisher(connection: infrastructure.publishing)
        let router = Router.instrumented()
        router.add(middleware: ProblemMiddleware())
        CallEventRoutes(secrets: IntegrationSecrets(database: infrastructure.database, logger: logger), publisher: publisher,
                        sealer: settings.sealer, twilioBaseURL: settings.twilioBaseURL, logger: logger)
            .add(to: router)
        var services: [any Service] = [OpenCallsGauge(database: infrastructure.database, logger: logger)]
        if settings.smdrEnabled {
            services.append(SMDRSupervisor(
                database: infrastructure.database, publisher: publisher,
                configuration: .init(holder: infrastructure.configuration.instanceID, lease: settings.smdrLease, reconnect: settings.smdrReconnect),
                logger: logger
            ))
        }
        if let minutes = settings.autoCloseMinutes {
            services.append(AutoCloser(database: infrastructure.database, announcer: announcer, after: .seconds(minutes * 60), logger: logger))
        }
        return Parts(handler: handler, downloads: downloads, router: router, services: services)
    }
}
