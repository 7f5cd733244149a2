public import ArgumentParser
import Hummingbird
public import KeelData
public import KeelOps
public import KeelSettings
public import ServiceLifecycle

/// A business capability, the counterpart of a Django app in `INSTALLED_APPS`.
///
/// A module contributes, all optional: settings keys, routes, CLI commands, system checks, readiness checks and
/// background services. `KeelApplication` assembles the modules it is given; nothing registers itself globally.
/// ```swift
/// struct Blog: KeelModule {
///     var name: String { "blog" }
///     var settings: [any AnySetting] { [BlogSettings.pageSize] }
///     func routes(into routes: KeelRoutes, app: KeelApplication) throws {
///         routes.api.get("/api/posts") { _, _ in "[]" }     // token identity, CORS, JSON errors
///         routes.web.get("/posts") { _, context in … }      // session, CSRF, HTML errors
///     }
/// }
/// ```
public protocol KeelModule: Sendable {
    /// A short, stable name (`accounts`): it prefixes the module's section of the settings reference.
    var name: String { get }
    /// The settings keys the module reads; resolved and validated with every other key at start-up.
    var settings: [any AnySetting] { get }
    /// The module's migrations, in order, each with an explicit stable name.
    var migrations: [any KeelMigration] { get }
    /// Extra `conduit <command>` subcommands.
    var commands: [any ParsableCommand.Type] { get }
    /// System checks, run by `check` (and `check --deploy` for deploy checks).
    var checks: [SystemCheck] { get }
    /// Adds the module's routes, each in a route group (`routes.api`, `routes.web`, `routes.health`,
    /// `routes.static`, or `routes.group(…)` for an exemption) whose stack it runs inside.
    func routes(into routes: KeelRoutes, app: KeelApplication) throws
    /// Conditions `/health/ready` requires.
    func readinessChecks(app: KeelApplication) -> [ReadinessCheck]
    /// Background services run beside the HTTP server under ServiceLifecycle; they are shut down after the server
    /// has drained.
    func services(app: KeelApplication) -> [any Service]
}

extension KeelModule {
    public var settings: [any AnySetting] { [] }
    public var migrations: [any KeelMigration] { [] }
    public var commands: [any ParsableCommand.Type] { [] }
    public var checks: [SystemCheck] { [] }
    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {}
    public func readinessChecks(app: KeelApplication) -> [ReadinessCheck] { [] }
    public func services(app: KeelApplication) -> [any Service] { [] }
}

/// An application definition: its name and its modules, read by the command line (`KeelCommandLine<App>`).
public protocol KeelApp {
    /// The executable's name, as in `conduit serve`.
    static var name: String { get }
    /// The application's modules, in order; Keel's own core module is added in front of them.
    static var modules: [any KeelModule] { get }
}
