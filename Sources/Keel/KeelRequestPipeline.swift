import Hummingbird
import HTTPTypes
import KeelAuth
import KeelCore
import KeelData
import KeelOps
import KeelSecurity

/// Keel's whole request pipeline as one middleware, one async function, configured from the settings.
///
/// Outermost first:
/// 1. request id, then (after everything) the access line and metrics: `RequestObservability`;
/// 2. any error becomes Keel's one error response: `renderError`;
/// 3. security headers with a fresh CSP nonce: `SecurityHeaders`;
/// 4. CORS, answering preflights here: `CORSPolicy`;
/// 5. trusted proxies, allowed hosts, the HTTPS redirect, HSTS: `TransportSecurity`;
/// 6. URL, header and body limits: `RequestLimits`;
/// 7. the request deadline, around everything below: `RequestDeadline`;
/// 8. the session: `SessionLifecycle`;
/// 9. the identity (`context.identity`): the API token's user (`APITokens.identity(for:)`), else the session's;
/// 10. CSRF: `CSRFPolicy`;
/// 11. path parameters percent-decoded (`PathParameters`), then the query recorder (N+1, Server-Timing):
///     `QueryRecording`.
///
/// Headers from 3–5 reach every response, error responses included, and never overwrite a header the route set.
/// These were eleven middleware; as one they save ten async frames, ten existential calls and ten copies of the
/// context per request (a fifth of a trivial route's throughput on the benchmark machine).
struct KeelRequestPipeline: RouterMiddleware {
    typealias Context = KeelContext

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
            response = renderError(error, request: request, context: context, requestID: requestID)
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

    /// Steps 4–11; throws what the error renderer turns into a response.
    private func respond(
        _ request: Request, context: inout KeelContext, headers: inout ResponseHeaders, next: (Request, KeelContext) async throws -> Response
    ) async throws -> Response {
        switch cors.decide(request) {
        case .none: break
        case .preflight(let response): return response
        case .headers(let corsHeaders): headers.cors = corsHeaders
        }
        if let redirect = try transport.inspect(request, peer: context.peer, security: &context.security, logger: context.logger) {
            return redirect
        }
        headers.hsts = context.security.isSecure
        try limits.check(request)
        context.maxUploadSize = limits.maxBodySize
        let context = context
        return try await deadline.run(logger: context.logger) {
            try await session(request, context: context, next: next)
        }
    }

    /// Steps 8–11, inside the deadline.
    private func session(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        let session = context.session
        let staleCookie = try await sessions.load(request, into: session)
        var response: Response
        do {
            var context = context
            // Path parameters arrive as sent; handlers see them decoded (`J%C3%BCrgen` is `Jürgen`).
            if !context.parameters.isEmpty { context.coreContext.parameters = try PathParameters.decoded(context.parameters) }
            // One identity: the token's when `Authorization` is sent (a bad one is `.invalid`, never the session's
            // user instead), else the session's logged-in user.
            if let identity = await tokens.identity(for: request) ?? session.identity { context.identity = identity }
            var request = request
            try await csrf.check(&request, security: context.security, session: session, maxUploadSize: context.maxUploadSize, logger: context.logger)
            let (handlerRequest, handlerContext) = (request, context)
            response = try await queries.run(logger: context.logger, route: { handlerContext.endpointPath }) {
                try await next(handlerRequest, handlerContext)
            }
        } catch {
            throw try await sessions.commit(session, staleCookie: staleCookie, after: error)
        }
        try await sessions.finish(session, staleCookie: staleCookie, response: &response)
        return response
    }
}
