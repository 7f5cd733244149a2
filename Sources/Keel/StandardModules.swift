import KeelAuth
public import KeelKernel
public import KeelOps
import KeelSecurity
public import KeelSettings
public import Logging
public import Foundation

extension KeelApplication {
    /// Keel's standard capabilities, in the order they must be installed: operations (request ids, logs, metrics,
    /// health), security (transport, headers, CORS, limits, deadline, CSRF, the keyring), authentication (sessions,
    /// identity, passwords, tokens: it signs with security's keyring).
    public static func standardModules(metrics: KeelMetrics = KeelMetrics()) -> [any KeelModule] {
        [OpsModule(metrics: metrics), SecurityModule(), AuthModule()]
    }

    /// An application of Keel's standard modules followed by `modules`.
    ///
    /// - Throws: `MigrationError.duplicateName` when two migrations share a name.
    public init(
        name: String, settings: ResolvedSettings, modules: [any KeelModule], logger: Logger, metrics: KeelMetrics = KeelMetrics(),
        clock: @escaping @Sendable () -> Date = Date.init
    ) throws {
        try self.init(name: name, settings: settings, composing: Self.standardModules(metrics: metrics) + modules, logger: logger, clock: clock)
    }

    /// The settings schema of Keel's standard modules plus these, one section per module.
    public static func schema(name: String, modules: [any KeelModule]) -> SettingsSchema {
        schema(name: name, composing: standardModules() + modules)
    }

    /// The system checks of Keel's standard modules plus these.
    public static func checks(name: String, modules: [any KeelModule]) -> CheckRegistry {
        checks(name: name, composing: standardModules() + modules)
    }
}
