public import ArgumentParser
public import Hummingbird
public import KeelData
public import KeelSettings
public import Logging
public import Foundation
public import ServiceLifecycle
public import UnixSignals
import KeelCore
import NIOCore

/// A Keel application: resolved settings plus modules, assembled into a router, a Hummingbird application and a
/// ServiceLifecycle service group.
///
/// The application knows no capability by name: it folds its modules (Keel's core module first), each contributing
/// settings, checks, migrations, shared parts, pipeline stages, routes, readiness checks and services.
/// ```swift
/// let app = try KeelApplication(name: "conduit", settings: settings, modules: [Accounts(), Articles()], logger: logger)
/// try await app.run()   // serves until SIGTERM/SIGINT, then drains and returns
/// ```
public struct KeelApplication: Sendable, CustomReflectable {
    public let name: String
    public let settings: ResolvedSettings
    /// Keel's core module followed by the given modules.
    public let modules: [any KeelModule]
    public let logger: Logger
    /// Readiness state; flips to "shutting down" when graceful shutdown begins.
    public let lifecycle: LifecycleState
    /// The database `database.url` names (pools open lazily).
    public let database: KeelDatabase
    /// Every module's migrations, in module order.
    public let migrator: Migrator
    /// The wall clock sessions and throttling read; tests pass their own.
    public let clock: @Sendable () -> Date
    /// What the modules installed (`KeelModule.install(into:)`), read through `part(_:)`.
    let parts: [ObjectIdentifier: any ApplicationPart]

    /// Assembles exactly these modules after Keel's core module (the umbrella `Keel` adds its standard modules in
    /// `init(name:settings:modules:logger:metrics:clock:)`).
    ///
    /// - Throws: `MigrationError.duplicateName` when two migrations share a name, or what a module's `install` throws.
    public init(
        name: String, settings: ResolvedSettings, composing modules: [any KeelModule], logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.name = name
        self.settings = settings
        self.modules = Self.withCore(modules, name: name)
        self.logger = logger
        self.lifecycle = LifecycleState()
        self.clock = clock
        let database = KeelDatabase(settings: settings, logger: logger)
        self.database = database
        self.migrator = try Migrator(database: database, migrations: Self.migrations(of: self.modules), logger: logger)
        try Self.checkPermissions(of: self.modules)
        var parts = Parts(settings: settings, logger: logger, database: database, clock: clock, modules: self.modules)
        for module in self.modules {
            try module.install(into: &parts)
        }
        self.parts = parts.values
        // Parts that observe writes (the audit trail) see every write transaction, in module order.
        database.attach(observers: parts.order.compactMap { parts.values[$0] as? any ChangeObserver })
    }

    static func withCore(_ modules: [any KeelModule], name: String) -> [any KeelModule] {
        [KeelCoreModule(applicationName: name)] + modules
    }

    /// Every module's system checks, as `check` runs them: `app.systemChecks.report(app.settings, deploy: true)` is
    /// what `check --deploy` finds in this instance (a staff page showing the deploy findings).
    public var systemChecks: CheckRegistry { CheckRegistry(checks: modules.flatMap(\.checks)) }

    /// Every permission the modules declare, in module order.
    public var permissions: [Permission] { modules.flatMap(\.permissions) }

    /// Refuses to assemble modules whose permissions are misnamed or declared twice, naming each problem.
    static func checkPermissions(of modules: [any KeelModule]) throws {
        var problems: [String] = []
        var seen: Set<String> = []
        for module in modules {
            for permission in module.permissions {
                if let problem = permission.problem(declaredBy: module.name) { problems.append(problem) }
                if !seen.insert(permission.codename).inserted { problems.append("permission \"\(permission.codename)\" is declared twice") }
            }
        }
        guard problems.isEmpty else { throw PermissionDeclarationError(problems: problems) }
    }

    /// Applies the migrations towards `target` (`Migrator.migrate`), then, when the schema is at the latest migration,
    /// lets every module bring its own records in line (`KeelModule.afterMigrate`). Returns the steps run and the
    /// modules' report lines. `migrate`, and `serve` in development, call this.
    @discardableResult
    public func migrate(
        to target: Migrator.Target = .latest, progress: @Sendable (Migrator.Step, Migrator.Outcome?, Duration?) -> Void = { _, _, _ in }
    ) async throws -> (steps: [(Migrator.Step, Migrator.Outcome)], notes: [String]) {
        let steps = try await migrator.migrate(to: target, progress: progress)
        let event = ChangeEvent("keel.migrated", details: [
            "target": Self.describe(target),
            "applied": steps.filter { $0.1 == .done && $0.0.direction == .apply }.map(\.0.name).joined(separator: ", "),
            "reverted": steps.filter { $0.1 == .done && $0.0.direction == .revert }.map(\.0.name).joined(separator: ", "),
        ])
        guard target == .latest else {
            // A rollback may have removed the tables events are recorded in (the trail's own migration).
            try? await database.record(event)
            return (steps, [])
        }
        var notes: [String] = []
        for module in modules {
            notes += try await module.afterMigrate(app: self)
        }
        try await database.record(event)
        return (steps, notes)
    }

    static func describe(_ target: Migrator.Target) -> String {
        switch target {
        case .latest: "latest"
        case .named(let name): name
        case .zero: "zero"
        }
    }

    static func migrations(of modules: [any KeelModule]) -> [RegisteredMigration] {
        modules.flatMap { module in module.migrations.map { RegisteredMigration(module: module.name, migration: $0) } }
    }

    /// Reflection shows nothing secret: the name, the profile and the modules.
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "profile": settings.profile, "modules": modules.map(\.name)])
    }

    /// The part a module installed; stops the process with a message naming the part when no module did (a module
    /// missing from the application, or installed after the one that needs it: an assembly error, not a runtime one).
    public func part<Part: ApplicationPart>(_ type: Part.Type) -> Part {
        Parts.lookup(type, in: parts) { "add the module that provides it to the application (modules: \(modules.map(\.name)))" }
    }

    /// A part that only some applications install (what the application calls its users), or `nil`.
    public func installedPart<Part: ApplicationPart>(_ type: Part.Type) -> Part? {
        parts[ObjectIdentifier(type)] as? Part
    }

    /// The settings schema of exactly these modules after the core module, one section per module.
    public static func schema(name: String, composing modules: [any KeelModule]) -> SettingsSchema {
        SettingsSchema(sections: withCore(modules, name: name).map { .init(module: $0.name, settings: $0.settings) })
    }

    /// The system checks of exactly these modules after the core module.
    public static func checks(name: String, composing modules: [any KeelModule]) -> CheckRegistry {
        CheckRegistry(checks: withCore(modules, name: name).flatMap(\.checks))
    }

    /// The commands of exactly these modules after the core module's (`migrate`, `showmigrations`, `settings`,
    /// `check`), in module order: what the command line offers.
    public static func commands(name: String, composing modules: [any KeelModule]) -> [any ParsableCommand.Type] {
        withCore(modules, name: name).flatMap(\.commands)
    }

    /// The stages each module contributes to one group, in the order they run (for docs and tests).
    public func stages(for group: RoutePolicy) -> [PipelineStage] {
        modules.flatMap { $0.stages(for: group, app: self) }.enumerated()
            .sorted { ($0.element.slot, $0.offset) < ($1.element.slot, $1.offset) }.map(\.element)
    }

    /// The router: every module's routes, each route inside its group's stack (`RoutePolicy`), each path's answers to
    /// the methods it has no route for (405, OPTIONS, HEAD), and the unmatched-route stack around the 404.
    public func buildRouter() throws -> Router<KeelContext> {
        let router = Router(context: KeelContext.self, options: .autoGenerateHeadEndpoints)
        let app = self
        let maxBodySize = settings[CoreSettings.maxBodySize]
        let routes = KeelRoutes(router: router) { group in
            KeelRequestPipeline(group: group, stages: app.stages(for: group), maxBodySize: maxBodySize)
        }
        for module in modules {
            try module.routes(into: routes, app: self)
        }
        // 405 with Allow, OPTIONS and HEAD for each path, in the path's own group.
        routes.answerOtherMethods()
        // Added last, so it wraps only what matched no route (Hummingbird builds the 404 responder with the router's
        // middleware, and a route only with the middleware added before it).
        router.add(middleware: KeelRequestPipeline(group: .unmatched, stages: stages(for: .unmatched), maxBodySize: maxBodySize))
        return router
    }

    /// Every module's readiness checks.
    public var readinessChecks: [ReadinessCheck] {
        modules.flatMap { $0.readinessChecks(app: self) }
    }

    /// The HTTP application on `http.host`:`http.port`.
    ///
    /// Before the server accepts connections the database is prepared (SQLite folder, WAL, busy timeout) and, in the
    /// `development` profile only, pending migrations are applied. Staging and production never migrate by
    /// themselves: run `migrate` in the deploy pipeline; readiness stays 503 while migrations are pending.
    public func buildApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let idle = settings[CoreSettings.idleTimeout]
        var application = Application(
            router: try buildRouter(),
            server: .http1(configuration: .init(idleTimeout: TimeAmount(idle))),
            configuration: .init(address: .hostname(settings[CoreSettings.httpHost], port: settings[CoreSettings.httpPort]), serverName: nil),
            onServerRunning: onServerRunning,
            logger: logger
        )
        let database = self.database
        let migrates = settings.profile == .development
        let logger = self.logger
        let app = self
        application.beforeServerStarts {
            try await database.prepare()
            if migrates {
                let (applied, notes) = try await app.migrate()
                if !applied.isEmpty {
                    logger.info("applied pending migrations", metadata: ["migration.count": .stringConvertible(applied.count)])
                }
                for note in notes { logger.info("\(note.trimmingCharacters(in: .whitespaces))") }
            }
        }
        return application
    }

    /// Every service to run, in the order that makes graceful shutdown correct (ServiceLifecycle stops them in
    /// reverse): the database, module services, the HTTP application, then the shutdown coordinator. So readiness
    /// fails first, then the server drains, then module services stop, then the database pools close.
    public func services(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> [any Service] {
        var services: [any Service] = [database]
        for module in modules {
            services += try module.services(app: self)
        }
        services.append(try buildApplication(onServerRunning: onServerRunning))
        services.append(ShutdownCoordinator(lifecycle: lifecycle, drainDelay: settings[CoreSettings.httpShutdownDrainDelay], logger: logger))
        return services
    }

    /// The service group `run()` runs; tests trigger its graceful shutdown directly.
    public func serviceGroup(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: try services(onServerRunning: onServerRunning),
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = settings[CoreSettings.httpShutdownTimeout]
        return ServiceGroup(configuration: configuration)
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully and returns.
    public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        try await serviceGroup(onServerRunning: onServerRunning).run()
    }
}

/// A shared part a module installs for other modules and handlers (a session store, a password hasher): one value
/// per type, read with `app.part(MyPart.self)`; capabilities add a property for theirs (`app.passwordHasher`).
public protocol ApplicationPart: Sendable {}

extension KeelApplication {
    /// What a module's `install(into:)` reads and adds to.
    public struct Parts: Sendable {
        public let settings: ResolvedSettings
        public let logger: Logger
        public let database: KeelDatabase
        public let clock: @Sendable () -> Date
        /// Every module of the application, in order: for a module that reads what the others declare (the tables
        /// an `AuditedModule` lists).
        public let modules: [any KeelModule]
        var values: [ObjectIdentifier: any ApplicationPart] = [:]
        /// The parts in the order they were installed (module order).
        var order: [ObjectIdentifier] = []

        init(settings: ResolvedSettings, logger: Logger, database: KeelDatabase, clock: @escaping @Sendable () -> Date,
             modules: [any KeelModule]) {
            self.settings = settings
            self.modules = modules
            self.logger = logger
            self.database = database
            self.clock = clock
        }

        /// Adds a part; a second part of the same type is an assembly error.
        public mutating func install<Part: ApplicationPart>(_ part: Part) {
            precondition(values[ObjectIdentifier(Part.self)] == nil, "\(Part.self) is installed twice: two modules provide it")
            values[ObjectIdentifier(Part.self)] = part
            order.append(ObjectIdentifier(Part.self))
        }

        /// A part an earlier module installed.
        public func part<Part: ApplicationPart>(_ type: Part.Type) -> Part {
            Self.lookup(type, in: values) { "the module that provides it must come earlier in the application's modules" }
        }

        /// The part of that type, or a stop naming it and what to do (an assembly error, found by any test).
        static func lookup<Part: ApplicationPart>(
            _ type: Part.Type, in values: [ObjectIdentifier: any ApplicationPart], advice: () -> String
        ) -> Part {
            guard let part = values[ObjectIdentifier(type)] as? Part else { preconditionFailure("\(Part.self) is not installed: \(advice())") }
            return part
        }
    }
}
