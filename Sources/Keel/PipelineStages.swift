import Hummingbird
import KeelAuth
import KeelCore
import KeelData
import KeelOps
import KeelSecurity

/// Every stage of Keel's request pipeline, built once from the settings; each route group's stack is made from them.
///
/// The stages are values shared by every group (one random pool, one deadline watchdog, one session store), so two
/// groups differ only in which stages they run.
struct PipelineStages {
    let observability: RequestObservability
    let securityHeaders: SecurityHeaders
    let cors: CORSPolicy
    let transport: TransportSecurity
    let limits: RequestLimits
    let deadline: RequestDeadline
    let sessions: SessionLifecycle
    let tokens: APITokens
    let csrf: CSRFPolicy
    let queries: QueryRecording

    init(app: KeelApplication, metricsOn: Bool) {
        let settings = app.settings
        // Request ids and CSP nonces come from one read-ahead buffer instead of a system call each.
        let random = RandomPool()
        observability = RequestObservability(
            metricsFactory: metricsOn ? app.metrics.factory : nil, accessLog: settings[OpsSettings.logAccessLog], random: random)
        securityHeaders = SecurityHeaders(.init(
            cspPolicy: settings[SecuritySettings.cspEnabled] ? settings[SecuritySettings.cspPolicy] : nil,
            cspReportOnly: settings[SecuritySettings.cspReportOnly],
            cspReportPath: settings[SecuritySettings.cspReportPath].flatMap { $0.isEmpty ? nil : $0 },
            frameOptions: settings[SecuritySettings.frameOptions].rawValue,
            referrerPolicy: settings[SecuritySettings.referrerPolicy].rawValue,
            crossOriginOpenerPolicy: settings[SecuritySettings.crossOriginOpenerPolicy].rawValue,
            contentTypeNosniff: settings[SecuritySettings.contentTypeNosniff]), random: random)
        cors = CORSPolicy(allowedOrigins: settings[SecuritySettings.corsAllowedOrigins], maxAge: 600)
        transport = TransportSecurity(.init(
            allowedHosts: settings[SecuritySettings.allowedHosts],
            trustedProxies: settings[SecuritySettings.trustedProxies].compactMap(IPAddressRange.init),
            sslRedirect: settings[SecuritySettings.sslRedirect],
            hstsMaxAge: settings[SecuritySettings.hstsMaxAge],
            hstsIncludeSubDomains: settings[SecuritySettings.hstsIncludeSubDomains],
            hstsPreload: settings[SecuritySettings.hstsPreload]))
        limits = RequestLimits(
            maxBodySize: settings[SecuritySettings.maxBodySize],
            maxURLLength: settings[SecuritySettings.maxURLLength],
            maxHeaderBytes: settings[SecuritySettings.maxHeaderBytes])
        deadline = RequestDeadline(timeout: settings[SecuritySettings.requestTimeout])
        sessions = SessionLifecycle(
            store: app.sessions,
            configuration: .init(
                cookieName: settings[AuthSettings.sessionCookieName], secure: settings[AuthSettings.sessionCookieSecure],
                sameSite: settings[AuthSettings.sessionCookieSameSite] == .strict ? .strict : .lax,
                idleTimeout: settings[AuthSettings.sessionIdleTimeout], absoluteTimeout: settings[AuthSettings.sessionAbsoluteTimeout]),
            clock: app.clock)
        tokens = app.apiTokens
        csrf = CSRFPolicy(
            sessionCookieName: settings[AuthSettings.sessionCookieName], trustedOrigins: settings[SecuritySettings.csrfTrustedOrigins])
        queries = QueryRecording(
            serverTiming: settings[DatabaseSettings.serverTiming],
            nPlusOneThreshold: settings[DatabaseSettings.nPlusOneThreshold],
            nPlusOne: settings[DatabaseSettings.nPlusOneAction],
            slowQueryThreshold: settings[DatabaseSettings.slowQueryThreshold])
    }

    /// The stack of one route group.
    func pipeline(for group: RouteGroup) -> KeelRequestPipeline {
        KeelRequestPipeline(
            group: group, observability: observability, securityHeaders: securityHeaders, cors: cors, transport: transport, limits: limits,
            deadline: deadline, sessions: sessions, tokens: tokens, csrf: csrf, queries: queries)
    }
}
