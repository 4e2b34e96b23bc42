import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Tracing, off by default: with `OTEL_TRACES_EXPORTER=otlp` or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) in the environment, spans go to an OpenTelemetry collector over
/// OTLP/HTTP (`OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf`, the default, or `http/json`), configured by the
/// usual `OTEL_*` variables (service name, headers, sampler, batch processor). `OTEL_SDK_DISABLED=true` or
/// `OTEL_TRACES_EXPORTER=none` keeps it off. Logs and metrics stay the programs' own.
enum TraceExport {
    /// Whether the environment asks for traces.
    static func isRequested(_ environment: [String: String]) -> Bool {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0.lowercased() } }
        if value("OTEL_SDK_DISABLED") == "true" { return false }
        if let exporter = value("OTEL_TRACES_EXPORTER") { return exporter != "none" }
        return value("OTEL_EXPORTER_OTLP_ENDPOINT") != nil || value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != nil
    }

    /// Bootstraps the tracer when the environment asks for traces, and returns the service that exports them
    /// (it must run, and stop after the program's own services so that the last spans go out); nil when off.
    static func bootstrap(program: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any Service)? {
        guard isRequested(environment) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = program
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        do {
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(backend.factory)
            return backend.service
        } catch {
            throw ConfigurationError(name: "OTEL_EXPORTER_OTLP_ENDPOINT", "tracing cannot start: \(error)")
        }
    }
}
