import KeelKernel
public import KeelSettings
import Logging

/// KeelOps' system checks: logging, metrics exposure and the shutdown budget. Ids are append-only; see `docs/checks.md`.
public enum OpsChecks {
    /// `ops.W001`: debug or trace logging in a deployment writes request details and slows every request.
    public static let verboseLogging = SystemCheck(ids: [.verboseLogging], deploy: true) { settings in
        let level = settings[OpsSettings.logLevel]
        guard settings.profile.isDeployed, level <= .debug else { return [] }
        return [CheckFinding(
            id: .verboseLogging, level: .warning,
            message: "log.level is \(level) in the \(settings.profile) profile: debug logs may carry request details and cost throughput.",
            hint: "Set LOG_LEVEL=info (or notice) in deployments; raise it only while investigating.")]
    }

    /// `ops.W002`: a separate metrics port on a non-loopback address without a token is open to the network.
    public static let exposedMetrics = SystemCheck(ids: [.exposedMetrics], deploy: true) { settings in
        guard settings[OpsSettings.metricsEnabled], settings[OpsSettings.metricsPort] != nil,
              settings[OpsSettings.metricsToken] == nil else { return [] }
        let host = settings[OpsSettings.metricsHost]
        guard host != "127.0.0.1", host != "::1", host != "localhost" else { return [] }
        return [CheckFinding(
            id: .exposedMetrics, level: .warning,
            message: "metrics.port is open on \(host) without metrics.token: anyone who reaches that address can read the metrics.",
            hint: "Set METRICS_TOKEN, bind METRICS_HOST to 127.0.0.1, or firewall the port to the Prometheus server.")]
    }

    /// `ops.E003`: a drain delay at least as long as the shutdown timeout means in-flight requests are cancelled.
    public static let shutdownBudget = SystemCheck(ids: [.shutdownBudget], deploy: false) { settings in
        let delay = settings[CoreSettings.httpShutdownDrainDelay]
        let timeout = settings[CoreSettings.httpShutdownTimeout]
        guard delay > .zero, delay >= timeout else { return [] }
        return [CheckFinding(
            id: .shutdownBudget, level: .error,
            message: "http.shutdownDrainDelay (\(delay.settingDescription)) is not shorter than http.shutdownTimeout (\(timeout.settingDescription)): requests in flight at SIGTERM would be cancelled instead of finishing.",
            hint: "Make HTTP_SHUTDOWN_TIMEOUT longer than HTTP_SHUTDOWN_DRAIN_DELAY plus your slowest request.")]
    }

    public static var all: [SystemCheck] { [verboseLogging, exposedMetrics, shutdownBudget] }
}

/// The ids `OpsChecks` reports (see `docs/checks.md`).
extension CheckID {
    /// `ops.W001`: debug or trace logging in a deployment.
    public static let verboseLogging: CheckID = "ops.W001"
    /// `ops.W002`: /metrics is reachable without protection.
    public static let exposedMetrics: CheckID = "ops.W002"
    /// `ops.E003`: the drain delay is not shorter than the shutdown timeout.
    public static let shutdownBudget: CheckID = "ops.E003"
}
