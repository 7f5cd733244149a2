import CoreMetrics
public import Prometheus
import Synchronization

/// The metrics of one application: a Prometheus registry and the swift-metrics factory that writes to it.
///
/// `conduit`'s `@main` may also bootstrap `MetricsSystem` with `factory`, so library metrics land in the same registry;
/// Keel's own middleware takes the factory explicitly and never needs the global.
public struct KeelMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // Our handlers answer in well under 5 ms: resolve the low end too.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        // Prometheus names allow no dots: `keel.http.requests` becomes `keel_http_requests`.
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.sanitize(name), labels.map { (Self.sanitize($0.0), $0.1) })
        }
        self.factory = factory
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    static func sanitize(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
    }
}

/// The per-route metric handles, created once per (route, method, status) and cached.
final class RequestMetrics: Sendable {
    struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    struct Handles: Sendable {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[Key: Handles]>([:])
    let inFlight: CoreMetrics.Meter

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = CoreMetrics.Meter(label: "keel_http_requests_in_flight", dimensions: [], factory: factory)
    }

    func record(route: String, method: String, status: Int, nanoseconds: UInt64) {
        let key = Key(route: route, method: method, status: status)
        let found = handles.withLock { $0[key] }
        let metric: Handles
        if let found {
            metric = found
        } else {
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let made = Handles(
                count: CoreMetrics.Counter(label: "keel_http_requests_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(label: "keel_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            )
            metric = handles.withLock { cache in
                if let existing = cache[key] { return existing }
                cache[key] = made
                return made
            }
        }
        metric.count.increment()
        metric.duration.recordNanoseconds(Int64(clamping: nanoseconds))
    }
}
