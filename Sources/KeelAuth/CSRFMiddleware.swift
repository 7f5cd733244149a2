public import Hummingbird
public import KeelSecurity
import Foundation
import HTTPTypes
import KeelCore
import Synchronization
import Logging
import NIOCore

extension Session {
    /// A fresh masked CSRF token for a form field (`csrf_token`) or the `X-CSRF-Token` header. Each call gives a
    /// different string (so the token cannot be recovered through compression side channels); all verify.
    public func csrfToken() -> String {
        CSRFToken.mask(csrfSecret)
    }
}

/// Masked CSRF tokens: 32 random bytes followed by those bytes XOR the session's secret, base64url.
enum CSRFToken {
    static func mask(_ secret: String) -> String {
        let secretBytes = Array(secret.utf8)
        let mask = SecureRandom.bytes(secretBytes.count)
        return Base64URL.encode(mask + zip(mask, secretBytes).map { $0 ^ $1 })
    }

    static func matches(_ token: String, secret: String) -> Bool {
        let secretBytes = Array(secret.utf8)
        guard let bytes = Base64URL.decode(token), bytes.count == secretBytes.count * 2, !secretBytes.isEmpty else { return false }
        let mask = bytes[..<secretBytes.count]
        let masked = bytes[secretBytes.count...]
        return constantTimeEquals(zip(mask, masked).map { $0 ^ $1 }, secretBytes)
    }
}

/// CSRF protection for cookie-authenticated unsafe requests (POST, PUT, PATCH, DELETE), as Django's.
///
/// A request that carries the session cookie must:
/// 1. come from this site: `Origin` equal to this request's origin or one of `trustedOrigins`; on HTTPS with no
///    `Origin`, the `Referer` must be on this site;
/// 2. carry a masked token (`X-CSRF-Token` header or `csrf_token` form field) made from its session's secret.
///
/// Failures are a 403 `csrf.failed` naming the reason, logged as a security event. Requests without the session
/// cookie have no ambient credential to abuse, but a cross-site page could still submit a login form (login CSRF):
/// without the cookie and without `Authorization`, a form-type body (urlencoded, multipart, text) from another site
/// (`Sec-Fetch-Site: cross-site`, or a foreign `Origin`) is refused; JSON calls are left to CORS.
/// Exemptions are explicit: `exemptPaths` lists exact paths or prefixes ending in `/*`.
/// Place it after `SessionMiddleware` and `TransportSecurityMiddleware`.
public struct CSRFMiddleware<Context: SessionRequestContext & SecurityRequestContext>: RouterMiddleware {
    public static var headerName: HTTPField.Name { .xCSRFToken }
    public static var formField: String { "csrf_token" }

    let sessionCookieName: String
    let trustedOrigins: Set<String>
    let exemptExact: Set<String>
    let exemptPrefixes: [String]

    public init(sessionCookieName: String, trustedOrigins: [String] = [], exemptPaths: [String] = []) {
        self.sessionCookieName = sessionCookieName
        self.trustedOrigins = Set(trustedOrigins.map { $0.lowercased() })
        self.exemptExact = Set(exemptPaths.filter { !$0.hasSuffix("/*") })
        self.exemptPrefixes = exemptPaths.filter { $0.hasSuffix("/*") }.map { String($0.dropLast()) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch request.method {
        case .get, .head, .options, .trace: return try await next(request, context)
        default: break
        }
        let path = request.uri.path
        if exemptExact.contains(path) || exemptPrefixes.contains(where: { path.hasPrefix($0) }) {
            return try await next(request, context)
        }
        let scheme = context.security.isSecure ? "https" : "http"
        var origins: Set<String> = []
        if let authority = context.security.authority ?? request.head.authority?.lowercased() { origins.insert("\(scheme)://\(authority)") }

        guard request.cookies[sessionCookieName] != nil else {
            // No session cookie, so no ambient credential, except that a cross-site page can still post a form that
            // logs the victim into the attacker's account (login CSRF). Browsers send such "simple" requests without
            // a CORS preflight, so refuse them when they come from another site; JSON and token-authenticated API
            // calls are protected by CORS and go on.
            if request.headers[.authorization] == nil, Self.isSimpleContentType(request.headers[.contentType]) {
                if request.headers[.secFetchSite]?.lowercased() == "cross-site" {
                    throw failure("Cross-site form submission.", context: context)
                }
                if let origin = request.headers[.origin]?.lowercased(), !origins.contains(origin), !trustedOrigins.contains(origin) {
                    throw failure("Origin \(origin.prefix(100)) does not match this site.", context: context)
                }
            }
            return try await next(request, context)
        }

        if let origin = request.headers[.origin]?.lowercased() {
            guard origins.contains(origin) || trustedOrigins.contains(origin) else {
                throw failure("Origin \(origin.prefix(100)) does not match this site.", context: context)
            }
        } else if context.security.isSecure {
            guard let referer = request.headers[.referer]?.lowercased() else {
                throw failure("Referer checking failed: no Referer.", context: context)
            }
            let allowed = origins.union(trustedOrigins)
            guard allowed.contains(where: { referer == $0 || referer.hasPrefix($0 + "/") }) else {
                throw failure("Referer checking failed: the Referer is not on this site.", context: context)
            }
        }

        var request = request
        var token = request.headers[.xCSRFToken]
        if token == nil, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            request.body = .init(buffer: body)
            token = Self.formValue(named: Self.formField, in: String(buffer: body))
        }
        guard let token, !token.isEmpty else { throw failure("CSRF token missing.", context: context) }
        guard let secret = context.session.state.withLock({ $0.record?.csrfSecret }), CSRFToken.matches(token, secret: secret) else {
            throw failure("CSRF token incorrect.", context: context)
        }
        return try await next(request, context)
    }


    /// Content types a browser sends cross-site without a CORS preflight.
    static func isSimpleContentType(_ value: String?) -> Bool {
        guard let value = value?.lowercased() else { return true }
        return value.hasPrefix("application/x-www-form-urlencoded") || value.hasPrefix("multipart/form-data") || value.hasPrefix("text/plain")
    }

    func failure(_ reason: String, context: Context) -> KeelError {
        context.logger.warning("csrf failure", metadata: [
            "keel.security.event": "csrf_failure", "csrf.reason": .string(reason), "client": .string(context.security.clientAddress ?? "-"),
        ])
        return KeelError(.forbidden, code: "csrf.failed", message: "CSRF verification failed. \(reason)")
    }

    static func formValue(named name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}

extension HTTPField.Name {
    /// `X-CSRF-Token`: the masked CSRF token of a JavaScript-sent unsafe request.
    public static let xCSRFToken = HTTPField.Name("X-CSRF-Token")!
    /// `Sec-Fetch-Site`: where a browser says a request comes from (`same-origin`, `same-site`, `cross-site`, `none`).
    public static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
