import Logging
public import KeelSettings
import KeelData

/// Keel's own system checks. Ids are append-only; see `docs/checks.md`.
public enum CoreChecks {
    /// The prefix of the development default key: never acceptable in a deployment.
    static let insecureKeyPrefix = "keel-insecure-"

    /// Whether a key is too weak to sign anything that matters: shorter than 32 bytes, fewer than 5 distinct
    /// characters, or Keel's insecure development default (Django's `_check_secret_key` rule, plus the default).
    public static func isWeakKey(_ key: String) -> Bool {
        key.utf8.count < 32 || Set(key).count < 5 || key.hasPrefix(insecureKeyPrefix)
    }

    /// `security.W009` and `security.W025`: the signing key and its fallbacks must be strong. Error level in staging
    /// and production (serve refuses to start), warning elsewhere.
    public static let signingKeys = SystemCheck(ids: ["security.W009", "security.W025"], deploy: true) { settings in
        let level: CheckLevel = settings.profile.isDeployed ? .error : .warning
        var findings: [CheckFinding] = []
        if isWeakKey(settings[CoreSettings.signingKey]) {
            findings.append(CheckFinding(
                id: "security.W009", level: level,
                message: "signing.key is shorter than 32 bytes, has fewer than 5 distinct characters, or is the insecure development default, so signed sessions and tokens can be forged.",
                hint: "Set SIGNING_KEY (or SIGNING_KEY_FILE) to at least 32 random bytes, such as the output of `conduit keys generate`; keep the old key in SIGNING_FALLBACK_KEYS while rotating."))
        }
        let weakFallbacks = settings[CoreSettings.signingFallbackKeys].enumerated().filter { isWeakKey($0.element) }.map { String($0.offset) }
        if !weakFallbacks.isEmpty {
            findings.append(CheckFinding(
                id: "security.W025", level: level,
                message: "signing.fallbackKeys has weak entries (positions \(weakFallbacks.joined(separator: ", "))): anything they signed can be forged.",
                hint: "Remove weak keys from SIGNING_FALLBACK_KEYS; every fallback must be at least 32 random bytes."))
        }
        return findings
    }

    /// `ops.W001`: debug or trace logging in a deployment writes request details and slows every request.
    public static let verboseLogging = SystemCheck(ids: ["ops.W001"], deploy: true) { settings in
        let level = settings[CoreSettings.logLevel]
        guard settings.profile.isDeployed, level <= .debug else { return [] }
        return [CheckFinding(
            id: "ops.W001", level: .warning,
            message: "log.level is \(level) in the \(settings.profile) profile: debug logs may carry request details and cost throughput.",
            hint: "Set LOG_LEVEL=info (or notice) in deployments; raise it only while investigating.")]
    }

    /// `ops.W002`: a separate metrics port on a non-loopback address without a token is open to the network.
    public static let exposedMetrics = SystemCheck(ids: ["ops.W002"], deploy: true) { settings in
        guard settings[CoreSettings.metricsEnabled], settings[CoreSettings.metricsPort] != nil,
              settings[CoreSettings.metricsToken] == nil else { return [] }
        let host = settings[CoreSettings.metricsHost]
        guard host != "127.0.0.1", host != "::1", host != "localhost" else { return [] }
        return [CheckFinding(
            id: "ops.W002", level: .warning,
            message: "metrics.port is open on \(host) without metrics.token: anyone who reaches that address can read the metrics.",
            hint: "Set METRICS_TOKEN, bind METRICS_HOST to 127.0.0.1, or firewall the port to the Prometheus server.")]
    }

    /// `ops.E003`: a drain delay at least as long as the shutdown timeout means in-flight requests are cancelled.
    public static let shutdownBudget = SystemCheck(ids: ["ops.E003"], deploy: false) { settings in
        let delay = settings[CoreSettings.httpShutdownDrainDelay]
        let timeout = settings[CoreSettings.httpShutdownTimeout]
        guard delay > .zero, delay >= timeout else { return [] }
        return [CheckFinding(
            id: "ops.E003", level: .error,
            message: "http.shutdownDrainDelay (\(delay.settingDescription)) is not shorter than http.shutdownTimeout (\(timeout.settingDescription)): requests in flight at SIGTERM would be cancelled instead of finishing.",
            hint: "Make HTTP_SHUTDOWN_TIMEOUT longer than HTTP_SHUTDOWN_DRAIN_DELAY plus your slowest request.")]
    }

    /// `database.W001`: a PostgreSQL server off this machine reached without required TLS.
    public static let databaseTLS = SystemCheck(ids: ["database.W001"], deploy: true) { settings in
        guard let url = DatabaseURL(settings[DatabaseSettings.url]), case .postgres = url, !url.isLocal, !url.requiresTLS else { return [] }
        return [CheckFinding(
            id: "database.W001", level: .warning,
            message: "database.url reaches a PostgreSQL server on another machine without sslmode=require (or verify-full): the connection may silently fall back to plain text.",
            hint: "Add ?sslmode=verify-full (or require) to DATABASE_URL.")]
    }

    public static var all: [SystemCheck] { [signingKeys, verboseLogging, exposedMetrics, shutdownBudget, databaseTLS] }
}
