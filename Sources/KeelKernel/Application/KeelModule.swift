public import ArgumentParser
public import KeelData
public import KeelSettings
public import ServiceLifecycle

/// A capability, the counterpart of a Django app in `INSTALLED_APPS`: Keel's own (`SecurityModule`, `AuthModule`,
/// `OpsModule`) and an application's (Conduit's `Accounts`, `Articles`) are the same kind of value.
///
/// A module contributes, all optional: settings keys, system checks, migrations, CLI commands, shared parts other
/// modules and handlers use (`install`), request pipeline stages (`stages(for:app:)`), routes, readiness checks and
/// background services. `KeelApplication` folds the modules it is given, in order; it knows none by name, and
/// nothing registers itself globally.
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
    /// A short, stable name (`accounts`): it prefixes the module's section of the settings reference and names its
    /// migrations' owner.
    var name: String { get }
    /// The settings keys the module reads; resolved and validated with every other key at start-up.
    var settings: [any AnySetting] { get }
    /// The module's migrations, in order, each with an explicit stable name.
    var migrations: [any KeelMigration] { get }
    /// Extra `<app> <command>` subcommands.
    var commands: [any ParsableCommand.Type] { get }
    /// What users may be allowed to do in this module, named `module.action_model` (`Permission`); recorded in the
    /// database by `migrate`, granted to users and groups, required by route groups.
    var permissions: [Permission] { get }
    /// System checks, run by `check` (and `check --deploy` for deploy checks).
    var checks: [SystemCheck] { get }
    /// Builds, once per application, the parts other modules and handlers share (a session store, a password
    /// hasher), from the settings and what earlier modules installed: `parts.install(part)` keyed by the part's type,
    /// read back with `app.part(MyPart.self)`.
    func install(into parts: inout KeelApplication.Parts) throws
    /// The stages this module adds to one route group's request pipeline (asked once per group when the router is
    /// built; return none for groups it has nothing to do with).
    func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage]
    /// Adds the module's routes, each in a route group (`routes.api`, `routes.web`, `routes.health`,
    /// `routes.static`, or `routes.group(…)` for an exemption) whose stack it runs inside.
    func routes(into routes: KeelRoutes, app: KeelApplication) throws
    /// Conditions `/health/ready` requires.
    func readinessChecks(app: KeelApplication) -> [ReadinessCheck]
    /// Background services run beside the HTTP server under ServiceLifecycle; they are started before the server and
    /// shut down after it has drained.
    func services(app: KeelApplication) throws -> [any Service]
    /// Brings what the module keeps in the database in line with the code once the schema is at the latest
    /// migration (Django's `post_migrate`): `migrate` runs it for every module, after the last migration or when none
    /// was pending, and prints the lines it returns (what was added or removed). KeelAuth records the permissions.
    ///
    /// Every replica of a deployment may run it at the same moment: do read-then-write work in
    /// `app.database.exclusiveTransaction(holder:)`, which takes the migration lock, so the instances take turns.
    func afterMigrate(app: KeelApplication) async throws -> [String]
}

extension KeelModule {
    public var settings: [any AnySetting] { [] }
    public var migrations: [any KeelMigration] { [] }
    public var commands: [any ParsableCommand.Type] { [] }
    public var permissions: [Permission] { [] }
    public func afterMigrate(app: KeelApplication) async throws -> [String] { [] }
    public var checks: [SystemCheck] { [] }
    public func install(into parts: inout KeelApplication.Parts) throws {}
    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] { [] }
    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {}
    public func readinessChecks(app: KeelApplication) -> [ReadinessCheck] { [] }
    public func services(app: KeelApplication) throws -> [any Service] { [] }
}

/// An application definition: its name and its modules, read by the command line (`KeelCommandLine<App>`).
public protocol KeelApp: SendableMetatype {
    /// The executable's name, as in `conduit serve`.
    static var name: String { get }
    /// The application's own modules, in order. The command line puts Keel's core module and standard modules
    /// (`KeelApplication.standardModules`: ops, security, auth) in front of them.
    static var modules: [any KeelModule] { get }
}
