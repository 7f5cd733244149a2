public import KeelSettings
public import KeelOps
public import Logging

/// The settings keys Keel itself reads. See `docs/settings.md` for the generated reference.
public enum CoreSettings {
    public static let httpHost = Setting<String>(
        "http.host", default: "127.0.0.1", allowed: .nonEmpty,
        doc: "Address the HTTP server binds to; 0.0.0.0 listens on every interface (behind a proxy or in a container).")
    public static let httpPort = Setting<Int>(
        "http.port", default: 8080, allowed: .range(0...65535),
        doc: "Port the HTTP server listens on; 0 picks a free port.")
    public static let httpShutdownTimeout = Setting<Duration>(
        "http.shutdownTimeout", default: .seconds(30), allowed: .range(.zero ... .seconds(3600)),
        doc: "How long graceful shutdown waits for requests in flight and services before cancelling them.")
    public static let httpShutdownDrainDelay = Setting<Duration>(
        "http.shutdownDrainDelay", default: .zero, allowed: .range(.zero ... .seconds(300)),
        doc: "After SIGTERM, how long readiness reports 503 while still serving, so load balancers move traffic first.")

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

    public static let checksSilenced = Setting<[String]>(
        "checks.silenced", default: [],
        doc: "System check ids to silence, such as ops.W001. Silence only what you have reviewed.")

    public static let signingKey = Setting<String>(
        "signing.key", default: "keel-insecure-development-key-change-me", requiredIn: [.staging, .production], secret: true,
        allowed: .nonEmpty,
        doc: "Secret key for signatures (sessions, tokens). At least 32 random bytes; `conduit keys generate` prints one.")
    public static let signingFallbackKeys = Setting<[String]>(
        "signing.fallbackKeys", default: [], secret: true,
        doc: "Previous signing keys, still accepted when verifying, so a key can be rotated without logging anyone out.")

    /// Every key above, in reference order.
    public static var all: [any AnySetting] {
        [
            httpHost, httpPort, httpShutdownTimeout, httpShutdownDrainDelay,
            logLevel, logFormat, logAccessLog,
            metricsEnabled, metricsPort, metricsHost, metricsToken,
            healthCheckTimeout, checksSilenced,
            signingKey, signingFallbackKeys,
        ]
    }
}
