public import Hummingbird
public import KeelOps
public import KeelSettings
public import Logging
public import Foundation
public import ServiceLifecycle
public import UnixSignals
import KeelCore
import KeelData
import NIOCore

/// Keel's own module: the core and database settings keys and system checks. Always first.
struct KeelCoreModule: KeelModule {
    let applicationName: String
    var name: String { "keel" }
    var settings: [any AnySetting] {
        CoreSettings.all + OpsSettings.all + SecuritySettings.all + AuthSettings.all + DatabaseSettings.all(defaultName: applicationName)
    }
    var checks: [SystemCheck] { OpsChecks.all + SecurityChecks.all + AuthSettings.checks + DatabaseChecks.all }
    var migrations: [any KeelMigration] { [SQLSessionStore.migration] + LoginThrottle.migrations }

    func readinessChecks(app: KeelApplication) -> [ReadinessCheck] {
        let database = app.database
        let migrator = app.migrator
        return [
            ReadinessCheck("database") { try await database.ping() },
            ReadinessCheck("migrations") {
                let pending = try await migrator.pending().count
                if pending > 0 { throw ReadinessFailure(pending == 1 ? "1 migration pending" : "\(pending) migrations pending") }
            },
        ]
    }
}

/// A Keel application: resolved settings plus modules, assembled into a router, a Hummingbird application and a
/// ServiceLifecycle service group.
///
/// ```swift
/// let app = KeelApplication(name: "conduit", settings: settings, modules: [Accounts(), Articles()], logger: logger)
/// try await app.run()   // serves until SIGTERM/SIGINT, then drains and returns
/// ```
public struct KeelApplication: Sendable, CustomReflectable {
    public let name: String
    public let settings: ResolvedSettings
    /// Keel's core module followed by the application's modules.
    public let modules: [any KeelModule]
    public let logger: Logger
    public let metrics: KeelMetrics
    /// Readiness state; flips to "shutting down" when graceful shutdown begins.
    public let lifecycle: LifecycleState
    /// The database `database.url` names (pools open lazily).
    public let database: KeelDatabase
    /// Every module's migrations, in module order.
    public let migrator: Migrator
    /// `signing.key` and `signing.fallbackKeys`: sign with the first, verify with all.
    public let keyring: Keyring
    /// Where sessions live (`security.session.store`).
    public let sessions: any SessionStore
    /// Failed-login counters shared by every instance (`security.loginThrottle.*`).
    public let loginThrottle: LoginThrottle
    /// Password hashing (`auth.passwordIterations`) and policy (`auth.passwordMinLength`, `auth.passwordRejectCommon`).
    public let passwordHasher: PasswordHasher
    public let passwordPolicy: PasswordPolicy
    /// API tokens (JWT) signed with the keyring (`auth.tokenLifetime`).
    public let apiTokens: APITokens
    /// The wall clock sessions and throttling read; tests pass their own.
    public let clock: @Sendable () -> Date

    /// - Throws: `MigrationError.duplicateName` when two migrations share a name.
    public init(
        name: String, settings: ResolvedSettings, modules: [any KeelModule], logger: Logger, metrics: KeelMetrics = KeelMetrics(),
        clock: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.name = name
        self.settings = settings
        self.modules = Self.withCore(modules, name: name)
        self.logger = logger
        self.metrics = metrics
        self.lifecycle = LifecycleState()
        self.database = KeelDatabase(settings: settings, logger: logger)
        self.keyring = Keyring(key: settings[SecuritySettings.signingKey], fallbackKeys: settings[SecuritySettings.signingFallbackKeys])
        self.clock = clock
        self.passwordHasher = PasswordHasher(iterations: settings[AuthSettings.passwordIterations])
        self.passwordPolicy = PasswordPolicy(
            minimumLength: settings[AuthSettings.passwordMinLength], rejectCommon: settings[AuthSettings.passwordRejectCommon])
        self.apiTokens = APITokens(keyring: keyring, lifetime: settings[AuthSettings.tokenLifetime], clock: clock)
        self.sessions = settings[AuthSettings.sessionStore] == .memory ? MemorySessionStore() : SQLSessionStore(database: database)
        self.loginThrottle = LoginThrottle(
            database: database,
            limits: .init(maxFailures: settings[AuthSettings.throttleMaxFailures], maxClientFailures: settings[AuthSettings.throttleMaxClientFailures],
                          window: settings[AuthSettings.throttleWindow], lockout: settings[AuthSettings.throttleLockout]),
            clock: clock)
        self.migrator = try Migrator(database: database, migrations: Self.migrations(of: self.modules), logger: logger)
    }

    static func withCore(_ modules: [any KeelModule], name: String) -> [any KeelModule] {
        [KeelCoreModule(applicationName: name)] + modules
    }

    static func migrations(of modules: [any KeelModule]) -> [RegisteredMigration] {
        modules.flatMap { module in module.migrations.map { RegisteredMigration(module: module.name, migration: $0) } }
    }

    /// Reflection shows nothing secret: the name, the profile and the modules.
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "profile": settings.profile, "modules": modules.map(\.name)])
    }

    /// Ends every session of a user except, if given, the current one: call it when a password changes, an account
    /// is disabled, or a user asks to log out everywhere.
    public func endSessions(of userID: String, except current: Session? = nil) async throws {
        try await sessions.deleteAll(userID: userID, except: current?.key)
    }

    /// The settings schema of Keel plus these modules, one section per module.
    public static func schema(name: String, modules: [any KeelModule]) -> SettingsSchema {
        SettingsSchema(sections: withCore(modules, name: name).map { .init(module: $0.name, settings: $0.settings) })
    }

    /// Every module's system checks.
    public static func checks(name: String, modules: [any KeelModule]) -> CheckRegistry {
        CheckRegistry(checks: withCore(modules, name: name).flatMap(\.checks))
    }

    /// The router: Keel's health and metrics endpoints, then every module's routes, each route inside its group's
    /// stack (`RouteGroup`), and the unmatched-route stack around the 404.
    public func buildRouter() throws -> Router<KeelContext> {
        let router = Router(context: KeelContext.self)
        let metricsOn = settings[OpsSettings.metricsEnabled]
        let stages = PipelineStages(app: self, metricsOn: metricsOn)
        let routes = KeelRoutes(router: router, corsEnabled: stages.cors.isEnabled) { group in stages.pipeline(for: group) }
        HealthEndpoints(checks: readinessChecks, lifecycle: lifecycle, timeout: settings[OpsSettings.healthCheckTimeout])
            .register(on: routes.health)
        if settings[SecuritySettings.cspEnabled], let path = settings[SecuritySettings.cspReportPath], !path.isEmpty {
            // Browsers post reports without a CSRF token or a session: an endpoint of its own kind, JSON, no CORS.
            CSPReportEndpoint(path: path, perMinute: settings[SecuritySettings.cspReportsPerMinute]).register(on: routes.group(.api.withoutCORS()))
        }
        if metricsOn && settings[OpsSettings.metricsPort] == nil {
            MetricsEndpoint(metrics: metrics, token: settings[OpsSettings.metricsToken], requireToken: true).register(on: routes.health)
        }
        for module in modules {
            try module.routes(into: routes, app: self)
        }
        // Added last, so it wraps only what matched no route (Hummingbird builds the 404 responder with the router's
        // middleware, and a route only with the middleware added before it).
        router.add(middleware: stages.pipeline(for: .unmatched))
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
        let idle = settings[SecuritySettings.idleTimeout]
        var application = Application(
            router: try buildRouter(),
            server: .http1(configuration: .init(idleTimeout: TimeAmount(idle))),
            configuration: .init(address: .hostname(settings[CoreSettings.httpHost], port: settings[CoreSettings.httpPort]), serverName: nil),
            onServerRunning: onServerRunning,
            logger: logger
        )
        let database = self.database
        let migrator = self.migrator
        let migrates = settings.profile == .development
        let logger = self.logger
        application.beforeServerStarts {
            try await database.prepare()
            if migrates {
                let applied = try await migrator.migrate()
                if !applied.isEmpty {
                    logger.info("applied pending migrations", metadata: ["migration.count": .stringConvertible(applied.count)])
                }
            }
        }
        return application
    }

    /// Every service to run: the separate metrics server (if configured), module services, the HTTP application and
    /// the shutdown coordinator, in the order that makes graceful shutdown correct (ServiceLifecycle stops them in
    /// reverse): readiness fails first, then the server drains, then module services stop, then the database pools close.
    public func services(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> [any Service] {
        var services: [any Service] = []
        if settings[OpsSettings.metricsEnabled], let port = settings[OpsSettings.metricsPort] {
            let router = Router()
            MetricsEndpoint(metrics: metrics, token: settings[OpsSettings.metricsToken], requireToken: false).register(on: router)
            services.append(Application(
                router: router,
                configuration: .init(address: .hostname(settings[OpsSettings.metricsHost], port: port), serverName: nil),
                logger: logger))
        }
        services.append(database)
        services += modules.flatMap { $0.services(app: self) }
        services.append(try buildApplication(onServerRunning: onServerRunning))
        services.append(ShutdownCoordinator(lifecycle: lifecycle, drainDelay: settings[OpsSettings.httpShutdownDrainDelay], logger: logger))
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
        configuration.maximumGracefulShutdownDuration = settings[OpsSettings.httpShutdownTimeout]
        return ServiceGroup(configuration: configuration)
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully and returns.
    public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        try await serviceGroup(onServerRunning: onServerRunning).run()
    }
}
