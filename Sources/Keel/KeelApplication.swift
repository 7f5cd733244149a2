public import Hummingbird
public import KeelOps
public import KeelSettings
public import Logging
public import ServiceLifecycle
public import UnixSignals
import KeelCore
import NIOCore

/// Keel's own module: the core settings keys and system checks. Always first.
struct KeelCoreModule: KeelModule {
    var name: String { "keel" }
    var settings: [any AnySetting] { CoreSettings.all }
    var checks: [SystemCheck] { CoreChecks.all }
}

/// A Keel application: resolved settings plus modules, assembled into a router, a Hummingbird application and a
/// ServiceLifecycle service group.
///
/// ```swift
/// let app = KeelApplication(name: "conduit", settings: settings, modules: [Accounts(), Articles()], logger: logger)
/// try await app.run()   // serves until SIGTERM/SIGINT, then drains and returns
/// ```
public struct KeelApplication: Sendable {
    public let name: String
    public let settings: ResolvedSettings
    /// Keel's core module followed by the application's modules.
    public let modules: [any KeelModule]
    public let logger: Logger
    public let metrics: KeelMetrics
    /// Readiness state; flips to "shutting down" when graceful shutdown begins.
    public let lifecycle: LifecycleState

    public init(name: String, settings: ResolvedSettings, modules: [any KeelModule], logger: Logger, metrics: KeelMetrics = KeelMetrics()) {
        self.name = name
        self.settings = settings
        self.modules = Self.withCore(modules)
        self.logger = logger
        self.metrics = metrics
        self.lifecycle = LifecycleState()
    }

    static func withCore(_ modules: [any KeelModule]) -> [any KeelModule] {
        [KeelCoreModule()] + modules
    }

    /// The settings schema of Keel plus these modules, one section per module.
    public static func schema(modules: [any KeelModule]) -> SettingsSchema {
        SettingsSchema(sections: withCore(modules).map { .init(module: $0.name, settings: $0.settings) })
    }

    /// Every module's system checks.
    public static func checks(modules: [any KeelModule]) -> CheckRegistry {
        CheckRegistry(checks: withCore(modules).flatMap(\.checks))
    }

    /// The router with Keel's middleware stack, the health and metrics endpoints and every module's routes.
    public func buildRouter() throws -> Router<KeelContext> {
        let router = Router(context: KeelContext.self)
        let metricsOn = settings[CoreSettings.metricsEnabled]
        router.add(middleware: RequestObservabilityMiddleware(
            metricsFactory: metricsOn ? metrics.factory : nil, accessLog: settings[CoreSettings.logAccessLog]))
        router.add(middleware: ErrorRenderingMiddleware())
        HealthEndpoints(checks: readinessChecks, lifecycle: lifecycle, timeout: settings[CoreSettings.healthCheckTimeout])
            .register(on: router)
        if metricsOn && settings[CoreSettings.metricsPort] == nil {
            MetricsEndpoint(metrics: metrics, token: settings[CoreSettings.metricsToken], requireToken: true).register(on: router)
        }
        for module in modules {
            try module.routes(into: router, app: self)
        }
        return router
    }

    /// Every module's readiness checks.
    public var readinessChecks: [ReadinessCheck] {
        modules.flatMap { $0.readinessChecks(app: self) }
    }

    /// The HTTP application on `http.host`:`http.port`.
    public func buildApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(
            router: try buildRouter(),
            configuration: .init(address: .hostname(settings[CoreSettings.httpHost], port: settings[CoreSettings.httpPort]), serverName: nil),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// Every service to run: the separate metrics server (if configured), module services, the HTTP application and
    /// the shutdown coordinator, in the order that makes graceful shutdown correct (ServiceLifecycle stops them in
    /// reverse): readiness fails first, then the server drains, then module services stop.
    public func services(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> [any Service] {
        var services: [any Service] = []
        if settings[CoreSettings.metricsEnabled], let port = settings[CoreSettings.metricsPort] {
            let router = Router()
            MetricsEndpoint(metrics: metrics, token: settings[CoreSettings.metricsToken], requireToken: false).register(on: router)
            services.append(Application(
                router: router,
                configuration: .init(address: .hostname(settings[CoreSettings.metricsHost], port: port), serverName: nil),
                logger: logger))
        }
        services += modules.flatMap { $0.services(app: self) }
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
