public import KeelSettings

/// The settings keys the application itself reads: where the server listens, how it treats idle connections and
/// shuts down, and which checks are silenced. Every capability owns its own keys (`OpsSettings`, `SecuritySettings`,
/// `AuthSettings`, `DatabaseSettings`). See `docs/settings.md` for the generated reference.
public enum CoreSettings {
    public static let httpHost = Setting<String>(
        "http.host", default: "127.0.0.1", allowed: .nonEmpty,
        doc: "Address the HTTP server binds to; 0.0.0.0 listens on every interface (behind a proxy or in a container).")
    public static let httpPort = Setting<Int>(
        "http.port", default: 8080, allowed: .range(0...65535),
        doc: "Port the HTTP server listens on; 0 picks a free port.")
    public static let idleTimeout = Setting<Duration>(
        "http.idleTimeout", default: .seconds(60), allowed: .range(.seconds(1) ... .seconds(3600)),
        doc: "A connection that sends nothing for this long is closed (slow or idle clients).")
    public static let httpShutdownTimeout = Setting<Duration>(
        "http.shutdownTimeout", default: .seconds(30), allowed: .range(.zero ... .seconds(3600)),
        doc: "How long graceful shutdown waits for requests in flight and services before cancelling them.")
    public static let httpShutdownDrainDelay = Setting<Duration>(
        "http.shutdownDrainDelay", default: .zero, allowed: .range(.zero ... .seconds(300)),
        doc: "After SIGTERM, how long readiness reports 503 while still serving, so load balancers move traffic first.")
    /// The kernel's because every request's context carries it (`KeelContext.maxUploadSize`, what `request.decode`
    /// and `JSONInput` read at most); the security module's limits stage refuses a larger `Content-Length` early.
    public static let maxBodySize = Setting<Int>(
        "http.maxBodySize", default: 1_048_576, allowed: .range(1...1_073_741_824),
        doc: "Largest request body in bytes; larger ones get a 413 before they are read in full.")
    public static let checksSilenced = Setting<[String]>(
        "checks.silenced", default: [],
        doc: "System check ids to silence, such as ops.W001. Silence only what you have reviewed.")

    /// Every key above, in reference order.
    public static var all: [any AnySetting] {
        [httpHost, httpPort, idleTimeout, httpShutdownTimeout, httpShutdownDrainDelay, maxBodySize, checksSilenced]
    }
}
