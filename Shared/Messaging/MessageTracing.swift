import Tracing

/// The W3C trace context (`traceparent`, `tracestate`) travels in AMQP message headers, so that one trace runs
/// from a webhook or a practice event through the consumer's commit to the live event query-api sends.
///
/// With no tracer bootstrapped (tracing off, the default) injecting and extracting do nothing.
public enum MessageTracing {
    /// `headers` with the current trace context added (headers the message already has win: a practice event's
    /// own `traceparent` is kept).
    public static func injectingCurrentContext(into headers: AMQPTable) -> AMQPTable {
        guard let context = ServiceContext.current else { return headers }
        var injected: AMQPTable = [:]
        InstrumentationSystem.instrument.inject(context, into: &injected, using: HeadersInjector())
        guard !injected.isEmpty else { return headers }
        return headers.merging(injected) { existing, _ in existing }
    }

    /// The trace context a delivery carries, as a parent for its processing.
    public static func context(of delivery: AMQPDelivery) -> ServiceContext {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(delivery.properties.headers, into: &context, using: HeadersExtractor())
        return context
    }

    /// Runs `body` in a consumer span for `batch` of `queue`: its parent is the first delivery's trace context,
    /// the other deliveries' contexts are links (a batch commits many traces' messages at once).
    static func withBatchSpan<Result>(
        queue: String, batch: [AMQPDelivery], _ body: () async -> Result
    ) async -> Result {
        guard let first = batch.first else { return await body() }
        return await withSpan("\(queue) process", context: context(of: first), ofKind: .consumer) { span in
            span.attributes["messaging.system"] = "rabbitmq"
            span.attributes["messaging.operation.type"] = "process"
            span.attributes["messaging.destination.name"] = queue
            span.attributes["messaging.batch.message_count"] = batch.count
            for delivery in batch.dropFirst() {
                let linked = context(of: delivery)
                if !linked.isEmpty { span.addLink(SpanLink(context: linked, attributes: [:])) }
            }
            return await body()
        }
    }

    struct HeadersInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout AMQPTable) {
            carrier[key] = .string(value)
        }
    }

    struct HeadersExtractor: Extractor {
        func extract(key: String, from carrier: AMQPTable) -> String? {
            carrier[key]?.stringValue
        }
    }
}
