public import ArgumentParser
public import KeelKernel
public import KeelSettings
public import ServiceLifecycle
import Hummingbird
import HTTPTypes
import KeelCore

/// Keel's operations capability as a module: the `log.*`, `metrics.*` and `health.*` keys with their checks, the
/// metrics registry (`app.metrics`), the health endpoints (`/health/live`, `/health/ready` over every module's
/// readiness checks), `/metrics` (on the public port behind `metrics.token`, or on `metrics.port` as a service of its
/// own), the `serve` command, and one stage:
///
/// | stage | slot | groups |
/// |---|---|---|
/// | `ops.observability`: request id in, access line and request metrics out | observability | all |
public struct OpsModule: KeelModule {
    /// The registry `/metrics` serves: the same one the process bootstrapped swift-metrics with.
    public let metrics: KeelMetrics

    public init(metrics: KeelMetrics = KeelMetrics()) {
        self.metrics = metrics
    }

    public var name: String { "ops" }
    public var settings: [any AnySetting] { OpsSettings.all }
    public var checks: [SystemCheck] { OpsChecks.all }
    /// `serve`.
    public var commands: [any ParsableCommand.Type] { [ServeCommand.self] }

    struct Observability: ApplicationPart {
        let observability: RequestObservability
    }

    public func install(into parts: inout KeelApplication.Parts) throws {
        let settings = parts.settings
        parts.install(metrics)
        parts.install(Observability(observability: RequestObservability(
            metricsFactory: settings[OpsSettings.metricsEnabled] ? metrics.factory : nil, accessLog: settings[OpsSettings.logAccessLog])))
    }

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        [.hook(.observability, "ops.observability", ObservabilityHook(observability: app.part(Observability.self).observability))]
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let settings = app.settings
        HealthEndpoints(checks: app.readinessChecks, lifecycle: app.lifecycle, timeout: settings[OpsSettings.healthCheckTimeout])
            .register(on: routes.health)
        if settings[OpsSettings.metricsEnabled] && settings[OpsSettings.metricsPort] == nil {
            MetricsEndpoint(metrics: metrics, token: settings[OpsSettings.metricsToken], requireToken: true).register(on: routes.health)
        }
    }

    public func services(app: KeelApplication) throws -> [any Service] {
        let settings = app.settings
        guard settings[OpsSettings.metricsEnabled], let port = settings[OpsSettings.metricsPort] else { return [] }
        let router = Router()
        MetricsEndpoint(metrics: metrics, token: settings[OpsSettings.metricsToken], requireToken: false).register(on: router)
        return [Application(
            router: router,
            configuration: .init(address: .hostname(settings[OpsSettings.metricsHost], port: port), serverName: nil),
            logger: app.logger)]
    }
}

extension KeelMetrics: ApplicationPart {}

extension KeelApplication {
    /// The Prometheus registry `/metrics` serves (installed by `OpsModule`).
    public var metrics: KeelMetrics { part(KeelMetrics.self) }
}

/// The request id (accepted or generated) and the logger's metadata on the way in; the access line and the request
/// metrics on the way out, for every response.
struct ObservabilityHook: RequestHook {
    let observability: RequestObservability

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        context.requestID = observability.begin(request, logger: &context.logger)
        return nil
    }

    func leave(_ request: Request, response: inout Response, context: KeelContext) {
        observability.end(
            request, response: &response, requestID: context.requestID, route: context.endpointPath, start: context.receivedAt,
            logger: context.logger)
    }
}
