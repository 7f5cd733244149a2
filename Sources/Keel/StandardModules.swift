import KeelAuth
import KeelAccess
import KeelAudit
public import ArgumentParser
public import KeelKernel
public import KeelOps
import KeelSecurity
public import KeelSettings
public import Logging
public import Foundation

extension KeelApplication {
    /// Keel's standard capabilities, in the order they must be installed: operations (request ids, logs, metrics,
    /// health, `serve`), security (transport, headers, CORS, limits, deadline, CSRF, the keyring), authentication
    /// (sessions, identity, passwords, tokens: it signs with security's keyring), access (permissions, staff, elevated
    /// access), audit (the trail of changes and security events; its checkpoints are signed with the keyring), cache
    /// (`app.cache`; its metrics go to operations' registry).
    public static func standardModules(metrics: KeelMetrics = KeelMetrics()) -> [any KeelModule] {
        [OpsModule(metrics: metrics), SecurityModule(), AuthModule(), AccessModule(), AuditModule(), CacheModule()]
    }

    /// Keel's standard modules followed by an application's: the one place the two lists meet. The application, its
    /// settings schema, its checks and its command line are all made from this list.
    public static func composing(_ modules: [any KeelModule], metrics: KeelMetrics = KeelMetrics()) -> [any KeelModule] {
        standardModules(metrics: metrics) + modules
    }

    /// An application of Keel's standard modules followed by `modules`.
    ///
    /// - Throws: `MigrationError.duplicateName` when two migrations share a name.
    public init(
        name: String, settings: ResolvedSettings, modules: [any KeelModule], logger: Logger, metrics: KeelMetrics = KeelMetrics(),
        clock: @escaping @Sendable () -> Date = Date.init
    ) throws {
        try self.init(name: name, settings: settings, composing: Self.composing(modules, metrics: metrics), logger: logger, clock: clock)
    }

    /// The settings schema of Keel's standard modules plus these, one section per module.
    public static func schema(name: String, modules: [any KeelModule]) -> SettingsSchema {
        schema(name: name, composing: composing(modules))
    }

    /// The system checks of Keel's standard modules plus these.
    public static func checks(name: String, modules: [any KeelModule]) -> CheckRegistry {
        checks(name: name, composing: composing(modules))
    }

    /// The commands of the core module, Keel's standard modules and these.
    public static func commands(name: String, modules: [any KeelModule]) -> [any ParsableCommand.Type] {
        commands(name: name, composing: composing(modules))
    }
}
