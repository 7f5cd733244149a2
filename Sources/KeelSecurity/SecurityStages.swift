import Hummingbird
import HTTPTypes
import KeelCore
import KeelKernel
import Logging

/// Trusted proxies (every group), then, where the group checks transport, allowed hosts and the HTTPS redirect on
/// the way in and HSTS on the way out.
struct TransportHook: RequestHook {
    let transport: TransportSecurity
    let enforcing: Bool

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        try transport.inspect(request, peer: context.peer, security: &context.security, enforcing: enforcing, logger: context.logger)
    }

    func leave(_ request: Request, response: inout Response, context: KeelContext) {
        if enforcing, context.security.isSecure, let hsts = transport.hstsField, !response.headers.contains(hsts.name) {
            response.headers.append(hsts)
        }
    }
}

/// A fresh CSP nonce on the way in (`context.cspNonce`); the security headers on every response on the way out.
struct HeadersHook: RequestHook {
    let headers: SecurityHeaders

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        if let nonce = headers.makeNonce() { context.security.cspNonce = nonce }
        return nil
    }

    func leave(_ request: Request, response: inout Response, context: KeelContext) {
        // A request refused before this stage entered (a host that is not allowed) still gets a policy.
        let nonce = context.security.cspNonce.isEmpty ? headers.makeNonce() : context.security.cspNonce
        headers.apply(to: &response.headers, nonce: nonce)
    }
}

/// CORS headers for listed origins, queued for whatever response comes out; preflights answered here.
struct CORSHook: RequestHook {
    let cors: CORSPolicy

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        switch cors.decide(request) {
        case .none: return nil
        case .preflight(let response): return response
        case .headers(let headers):
            context.addResponseHeaders(headers)
            return nil
        }
    }
}

/// URL, header and body limits (a `Content-Length` past `http.maxBodySize` is a 413 before the body is read; the
/// context's `maxUploadSize`, the same setting, bounds what is read of a body without one).
struct LimitsHook: RequestHook {
    let limits: RequestLimits

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        try limits.check(request)
        return nil
    }
}

/// Everything after it in a child task the deadline watchdog cancels past `http.requestTimeout` (503).
struct DeadlineWrapper: RequestWrapper {
    let deadline: RequestDeadline

    func run(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        try await deadline.run(logger: context.logger) { try await next(request, context) }
    }
}

/// Origin and masked token for cookie-authenticated unsafe requests, checked against the loaded session's secret.
struct CSRFHook: AsyncRequestHook {
    let csrf: CSRFPolicy

    func enter(_ request: inout Request, context: inout KeelContext) async throws -> Response? {
        try await csrf.check(
            &request, security: context.security, carriesSessionCookie: context.session.requestCarriedCookie,
            secret: context.session.existingCSRFSecret, maxUploadSize: context.maxUploadSize, logger: context.logger, state: context.state)
        return nil
    }
}
