public import ArgumentParser
public import KeelKernel
public import KeelSettings
import Hummingbird
import HTTPTypes
import KeelCore
import Logging

/// Keel's security capability as a module: the `security.*`, `cors.*`, `signing.*` and request-limit keys with their
/// checks, the signing keyring (`app.keyring`), the `keys generate|status` commands, the route options
/// `TransportChecks`, `CrossOriginRequests` and `CSRFProtection` (`exemptingCSRF(because:)`, `withoutCORS()`), no
/// tables, and these stages:
///
/// | stage | slot | groups |
/// |---|---|---|
/// | `security.transport`: trusted proxies; allowed hosts, HTTPS redirect, HSTS | transport | all (hosts and HTTPS only where `checksTransport`) |
/// | `security.headers`: CSP with a per-request nonce, frame, nosniff, referrer, COOP | headers | all |
/// | `security.cors`: listed origins, preflights | cors | `allowsCORS`, when `cors.allowedOrigins` is set |
/// | `security.limits`: URL, header and body sizes | limits | all |
/// | `security.deadline`: `http.requestTimeout` | deadline | `runsHandlersUnderBudget` |
/// | `security.csrf`: Origin and masked token on unsafe cookie requests | csrf | `loadsSessions` and `checksCSRF` |
///
/// It also serves the CSP report endpoint (`security.csp.reportPath`) when a policy is sent.
public struct SecurityModule: KeelModule {
    public init() {}

    public var name: String { "security" }
    public var settings: [any AnySetting] { SecuritySettings.all }
    public var checks: [SystemCheck] { SecurityChecks.all }
    /// `keys generate` and `keys status`.
    public var commands: [any ParsableCommand.Type] { [KeysCommand.self] }

    /// The stages, built once and shared by every group (one random pool, one deadline watchdog).
    struct Stages: ApplicationPart {
        let transport: TransportSecurity
        let headers: SecurityHeaders
        let cors: CORSPolicy
        let limits: RequestLimits
        let deadline: RequestDeadline
        let csrf: CSRFPolicy
    }

    public func install(into parts: inout KeelApplication.Parts) throws {
        let settings = parts.settings
        parts.install(Keyring(key: settings[SecuritySettings.signingKey], fallbackKeys: settings[SecuritySettings.signingFallbackKeys]))
        parts.install(Stages(
            transport: TransportSecurity(.init(
                allowedHosts: settings[SecuritySettings.allowedHosts],
                trustedProxies: settings[SecuritySettings.trustedProxies].compactMap(IPAddressRange.init),
                sslRedirect: settings[SecuritySettings.sslRedirect],
                hstsMaxAge: settings[SecuritySettings.hstsMaxAge],
                hstsIncludeSubDomains: settings[SecuritySettings.hstsIncludeSubDomains],
                hstsPreload: settings[SecuritySettings.hstsPreload])),
            headers: SecurityHeaders(.init(
                cspPolicy: settings[SecuritySettings.cspEnabled] ? settings[SecuritySettings.cspPolicy] : nil,
                cspReportOnly: settings[SecuritySettings.cspReportOnly],
                cspReportPath: settings[SecuritySettings.cspReportPath].flatMap { $0.isEmpty ? nil : $0 },
                frameOptions: settings[SecuritySettings.frameOptions].rawValue,
                referrerPolicy: settings[SecuritySettings.referrerPolicy].rawValue,
                crossOriginOpenerPolicy: settings[SecuritySettings.crossOriginOpenerPolicy].rawValue,
                contentTypeNosniff: settings[SecuritySettings.contentTypeNosniff])),
            cors: CORSPolicy(allowedOrigins: settings[SecuritySettings.corsAllowedOrigins], maxAge: 600),
            limits: RequestLimits(
                maxBodySize: settings[CoreSettings.maxBodySize],
                maxURLLength: settings[SecuritySettings.maxURLLength],
                maxHeaderBytes: settings[SecuritySettings.maxHeaderBytes]),
            deadline: RequestDeadline(
                timeout: settings[SecuritySettings.requestTimeout], retryAfter: settings[SecuritySettings.timeoutRetryAfter]),
            csrf: CSRFPolicy(trustedOrigins: settings[SecuritySettings.csrfTrustedOrigins])))
    }

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        let built = app.part(Stages.self)
        var stages: [PipelineStage] = [
            .hook(.transport, "security.transport", TransportHook(transport: built.transport, enforcing: group.checksTransport)),
            .hook(.headers, "security.headers", HeadersHook(headers: built.headers)),
            .hook(.limits, "security.limits", LimitsHook(limits: built.limits)),
        ]
        if group.allowsCORS && built.cors.isEnabled {
            stages.append(.hook(.cors, "security.cors", CORSHook(cors: built.cors)))
        }
        if group.runsHandlersUnderBudget {
            stages.append(.wrapper(.deadline, "security.deadline", DeadlineWrapper(deadline: built.deadline)))
        }
        if group.loadsSessions && group.checksCSRF {
            stages.append(.asyncHook(.csrf, "security.csrf", CSRFHook(csrf: built.csrf)))
        }
        return stages
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let settings = app.settings
        if settings[SecuritySettings.cspEnabled], let path = settings[SecuritySettings.cspReportPath], !path.isEmpty {
            // Browsers post reports without a CSRF token or a session: an endpoint of its own kind, JSON, no CORS.
            CSPReportEndpoint(path: path, perMinute: settings[SecuritySettings.cspReportsPerMinute], clock: app.clock).register(on: routes.group(.api.withoutCORS()))
        }
    }
}

extension Keyring: ApplicationPart {}

extension KeelApplication {
    /// `signing.key` and `signing.fallbackKeys`: sign with the first, verify with all (installed by `SecurityModule`).
    public var keyring: Keyring { part(Keyring.self) }
}
