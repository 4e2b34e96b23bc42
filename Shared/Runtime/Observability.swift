import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics; bootstrapped once, by `main`.
public enum Observability {
    /// Logs to standard error at `level`, and exports metrics to the returned Prometheus registry.
    public static func bootstrap(logLevel: Logger.Level) -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
