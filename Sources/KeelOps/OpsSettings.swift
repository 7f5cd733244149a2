public import KeelSettings
public import Logging

/// The operations settings keys KeelOps reads: logs, metrics and health (see `docs/operations.md`).
public enum OpsSettings {

    public static let logLevel = Setting<Logger.Level>(
        "log.level", default: .info,
        doc: "Lowest level of log lines written.")
    public static let logFormat = Setting<LogFormat>(
        "log.format", default: .text, profiles: [.staging: .json, .production: .json],
        doc: "`text` for readable lines on standard error, `json` for one JSON object per line on standard output.")
    public static let logAccessLog = Setting<Bool>(
        "log.accessLog", default: true,
        doc: "Log one line per request: method, route template, status, duration and request id.")

    public static let metricsEnabled = Setting<Bool>(
        "metrics.enabled", default: true,
        doc: "Record request metrics and serve them in the Prometheus text format at /metrics.")
    public static let metricsPort = Setting<Int?>(
        "metrics.port", default: nil, allowed: .init(allowed: "1...65535") { port in port.map { (1...65535).contains($0) } == false ? "must be within 1...65535" : nil },
        doc: "Serve /metrics on this separate port (bound to metrics.host) instead of the public one.")
    public static let metricsHost = Setting<String>(
        "metrics.host", default: "127.0.0.1", allowed: .nonEmpty,
        doc: "Address the separate metrics port binds to.")
    public static let metricsToken = Setting<String?>(
        "metrics.token", default: nil, secret: true,
        allowed: .init(allowed: "at least 16 characters") { token in (token.map { $0.count < 16 } ?? false) ? "must be at least 16 characters" : nil },
        doc: "Bearer token /metrics requires. Without metrics.port, /metrics on the public port answers only with this token.")

    public static let healthCheckTimeout = Setting<Duration>(
        "health.checkTimeout", default: .seconds(2), allowed: .range(.milliseconds(10) ... .seconds(60)),
        doc: "Longest a readiness check may take before /health/ready reports it failing.")

    /// Every key above, in reference order.
    public static var all: [any AnySetting] {
        [
            logLevel, logFormat, logAccessLog,
            metricsEnabled, metricsPort, metricsHost, metricsToken,
            healthCheckTimeout,
        ]
    }
}
