import Hummingbird
import HTTPTypes
import KeelAuth
import KeelCore
import KeelData
import KeelOps
import KeelSecurity

/// Keel's request pipeline for one route group, as one middleware, one async function, configured from the settings.
///
/// Outermost first (the group, a `RouteGroup`, says which of the optional stages run):
/// 1. request id, then (after everything) the access line and metrics: `RequestObservability`;
/// 2. any error becomes Keel's one error response, JSON or HTML as the group says: `renderError`;
/// 3. security headers with a fresh CSP nonce: `SecurityHeaders`;
/// 4. CORS, answering preflights here (groups that allow it): `CORSPolicy`;
/// 5. trusted proxies, then allowed hosts, the HTTPS redirect and HSTS (groups that check transport):
///    `TransportSecurity`;
/// 6. URL, header and body limits: `RequestLimits`;
/// 7. the request deadline, around everything below (groups with a budget): `RequestDeadline`;
/// 8. path parameters percent-decoded: `PathParameters`;
/// 9. the session (groups that load it): `SessionLifecycle`;
/// 10. the identity (`context.identity`): the API token's user (groups that take tokens), else the session's user;
/// 11. CSRF (groups that check it): `CSRFPolicy`;
/// 12. the query recorder, N+1 and Server-Timing (groups with a budget): `QueryRecording`.
///
/// Headers from 3–5 reach every response, error responses included, and never overwrite a header the route set.
/// Each group's stack is one middleware, so a request pays for one async frame, not one per stage (eleven middleware
/// fused into one gained a fifth of a trivial route's throughput on the benchmark machine).
struct KeelRequestPipeline: RouterMiddleware {
    typealias Context = KeelContext

    let group: RouteGroup
    let observability: RequestObservability
    let securityHeaders: SecurityHeaders
    let cors: CORSPolicy?
    let transport: TransportSecurity
    let limits: RequestLimits
    let deadline: RequestDeadline?
    let sessions: SessionLifecycle?
    let tokens: APITokens?
    let csrf: CSRFPolicy?
    let queries: QueryRecording?

    init(
        group: RouteGroup, observability: RequestObservability, securityHeaders: SecurityHeaders, cors: CORSPolicy,
        transport: TransportSecurity, limits: RequestLimits, deadline: RequestDeadline, sessions: SessionLifecycle, tokens: APITokens,
        csrf: CSRFPolicy, queries: QueryRecording
    ) {
        self.group = group
        self.observability = observability
        self.securityHeaders = securityHeaders
        self.cors = group.allowsCORS && cors.isEnabled ? cors : nil
        self.transport = transport
        self.limits = limits
        self.deadline = group.runsHandlersUnderBudget ? deadline : nil
        self.sessions = group.loadsSessions ? sessions : nil
        self.tokens = group.authenticatesTokens ? tokens : nil
        self.csrf = group.loadsSessions && group.checksCSRF ? csrf : nil
        self.queries = group.runsHandlersUnderBudget ? queries : nil
    }

    /// What steps 4–5 decided for the response's headers, applied once the response exists.
    private struct ResponseHeaders {
        var cors: HTTPFields?
        var hsts = false
    }

    func handle(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        let requestID = observability.begin(request, logger: &context.logger)
        context.requestID = requestID
        let nonce = securityHeaders.makeNonce()
        if let nonce { context.security.cspNonce = nonce }
        var decided = ResponseHeaders()
        var response: Response
        do {
            response = try await respond(request, context: &context, headers: &decided, next: next)
        } catch {
            response = renderError(error, request: request, context: context, requestID: requestID, format: group.errorFormat)
        }
        // Headers every response gets, error responses included, appended straight into the response's fields and
        // never over one the route set: security headers, then CORS, then HSTS.
        response.headers.reserveCapacity(response.headers.count + 8)
        securityHeaders.apply(to: &response.headers, nonce: nonce)
        if let cors = decided.cors { response.headers.appendMissing(cors) }
        if decided.hsts, let hsts = transport.hstsField, !response.headers.contains(hsts.name) { response.headers.append(hsts) }
        observability.end(request, response: &response, requestID: requestID, route: context.endpointPath, start: start, logger: context.logger)
        return response
    }

    /// Steps 4–12; throws what the error renderer turns into a response.
    private func respond(
        _ request: Request, context: inout KeelContext, headers: inout ResponseHeaders, next: (Request, KeelContext) async throws -> Response
    ) async throws -> Response {
        if let cors {
            switch cors.decide(request) {
            case .none: break
            case .preflight(let response): return response
            case .headers(let corsHeaders): headers.cors = corsHeaders
            }
        }
        if let redirect = try transport.inspect(
            request, peer: context.peer, security: &context.security, enforcing: group.checksTransport, logger: context.logger)
        {
            return redirect
        }
        headers.hsts = context.security.isSecure && group.checksTransport
        try limits.check(request)
        context.maxUploadSize = limits.maxBodySize
        // Path parameters arrive as sent; handlers see them decoded (`J%C3%BCrgen` is `Jürgen`).
        if !context.parameters.isEmpty { context.coreContext.parameters = try PathParameters.decoded(context.parameters) }
        let context = context
        guard let deadline else { return try await authenticated(request, context: context, next: next) }
        return try await deadline.run(logger: context.logger) {
            try await authenticated(request, context: context, next: next)
        }
    }

    /// Steps 9–12, inside the deadline.
    private func authenticated(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        guard let sessions else {
            var context = context
            if let identity = await identity(of: request, session: nil) { context.identity = identity }
            return try await handler(request, context: context, next: next)
        }
        let session = context.session
        let staleCookie = try await sessions.load(request, into: session)
        var response: Response
        do {
            var context = context
            if let identity = await identity(of: request, session: session) { context.identity = identity }
            var request = request
            if let csrf {
                try await csrf.check(
                    &request, security: context.security, secret: session.existingCSRFSecret, maxUploadSize: context.maxUploadSize,
                    logger: context.logger)
            }
            response = try await handler(request, context: context, next: next)
        } catch {
            throw try await sessions.commit(session, staleCookie: staleCookie, after: error)
        }
        try await sessions.finish(session, staleCookie: staleCookie, response: &response)
        return response
    }

    /// Step 10, one identity: the token's when the group takes tokens and `Authorization` is sent (a bad one is
    /// `.invalid`, never the session's user instead), else the loaded session's logged-in user.
    private func identity(of request: Request, session: Session?) async -> Identity? {
        if let tokens, let identity = await tokens.identity(for: request) { return identity }
        return session?.identity
    }

    /// Step 12 and the route.
    private func handler(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        guard let queries else { return try await next(request, context) }
        return try await queries.run(logger: context.logger, route: { context.endpointPath }) {
            try await next(request, context)
        }
    }
}
