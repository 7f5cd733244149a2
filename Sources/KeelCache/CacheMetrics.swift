import CoreMetrics

/// The cache's counters, labelled with the store: `keel_cache_hits_total`, `keel_cache_misses_total`,
/// `keel_cache_evictions_total`, `keel_cache_errors_total`, `keel_cache_wait_timeouts_total`, and the gauges
/// `keel_cache_bytes` and `keel_cache_entries` (what the store holds after its last write).
struct CacheMetrics: Sendable {
    let hits: CoreMetrics.Counter
    let misses: CoreMetrics.Counter
    let evictions: CoreMetrics.Counter
    let errors: CoreMetrics.Counter
    let waitTimeouts: CoreMetrics.Counter
    let bytes: CoreMetrics.Gauge
    let entries: CoreMetrics.Gauge

    init(store: String, factory: any MetricsFactory) {
        let dimensions = [("store", store)]
        hits = CoreMetrics.Counter(label: "keel_cache_hits_total", dimensions: dimensions, factory: factory)
        misses = CoreMetrics.Counter(label: "keel_cache_misses_total", dimensions: dimensions, factory: factory)
        evictions = CoreMetrics.Counter(label: "keel_cache_evictions_total", dimensions: dimensions, factory: factory)
        errors = CoreMetrics.Counter(label: "keel_cache_errors_total", dimensions: dimensions, factory: factory)
        waitTimeouts = CoreMetrics.Counter(label: "keel_cache_wait_timeouts_total", dimensions: dimensions, factory: factory)
        bytes = CoreMetrics.Gauge(label: "keel_cache_bytes", dimensions: dimensions, factory: factory)
        entries = CoreMetrics.Gauge(label: "keel_cache_entries", dimensions: dimensions, factory: factory)
    }
}
