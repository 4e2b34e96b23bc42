import Foundation
import Logging
import Metrics
import OTel
import Prometheus

/// How log lines are written (`COMMLOG_LOG_FORMAT`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's text lines, for people.
    case text
    /// One JSON object per line, for collectors (`JSONLogHandler`).
    case json
}

/// Process-wide logging and metrics; bootstrapped once, by `main`.
public enum Observability {
    /// Logs to standard error at `level` in `format`, and exports metrics to the returned Prometheus registry.
    /// With tracing on (`TraceExport`), every line logged inside a span carries its `trace_id` and `span_id`.
    public static func bootstrap(logLevel: Logger.Level, format: LogFormat = .text) -> PrometheusCollectorRegistry {
        let traceIDs: Logger.MetadataProvider? = TraceExport.isRequested(ProcessInfo.processInfo.environment) ? OTel.makeLoggingMetadataProvider() : nil
        LoggingSystem.bootstrap({ label, provider in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                handler.logLevel = logLevel
                return handler
            case .json:
                var handler = JSONLogHandler(label: label, metadataProvider: provider)
                handler.logLevel = logLevel
                return handler
            }
        }, metadataProvider: traceIDs)
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (conventionalNames[name] ?? prometheusName(name), labels.map { (prometheusName($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Hummingbird's request metrics under Prometheus's conventions (a counter ends in `_total`, a duration
    /// says its unit).
    static let conventionalNames = [
        "hb.requests": "http_requests_total",
        "hb.request.errors": "http_request_errors_total",
        "http.server.request.duration": "http_server_request_duration_seconds",
    ]

    /// A metric or label name as Prometheus allows it (`[a-zA-Z_:][a-zA-Z0-9_:]*`): libraries name theirs after
    /// OpenTelemetry (`http.server.request.duration`, `http.route`), which becomes `http_server_request_duration`.
    public static func prometheusName(_ name: String) -> String {
        var scalars = name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == ":") ? Character(scalar) : "_"
        }
        if let first = scalars.first, first.isNumber { scalars.insert("_", at: 0) }
        return String(scalars)
    }
}
