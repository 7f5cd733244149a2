public import Hummingbird
import Foundation
import HTTPTypes
public import KeelKernel
public import KeelCore
package import Logging
import NIOCore

/// Masked CSRF tokens: 32 random bytes followed by those bytes XOR the session's secret, base64url. Each mask gives a
/// different string for the same secret (so the token cannot be recovered through compression side channels); all
/// verify.
package enum CSRFToken {
    package static func mask(_ secret: String) -> String {
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
///
/// It runs in route groups that load sessions and check CSRF (`web`); an exemption is a property of the group
/// (`RoutePolicy.web.exemptingCSRF(because:)`), never a path pattern.
package struct CSRFPolicy: Sendable {
    /// Origins besides the request's own whose unsafe requests are accepted (`security.csrf.trustedOrigins`).
    let trustedOrigins: Set<String>

    package init(trustedOrigins: [String]) {
        self.trustedOrigins = Set(trustedOrigins.map { $0.lowercased() })
    }

    /// Throws the 403 an unsafe request has earned. A form body read for its token is put back on `request`.
    ///
    /// - Parameters:
    ///   - carriesSessionCookie: whether the request named a session in its cookie (`Session.requestCarriedCookie`).
    ///   - secret: the CSRF secret of the session the cookie loaded, if it loaded one (read only for an unsafe request
    ///     that carries the cookie and a token).
    ///   - state: the request's state, where a form decoded for its token is kept (`ParsedForm`) for the handler.
    package func check(
        _ request: inout Request, security: RequestSecurity, carriesSessionCookie: Bool, secret: @autoclosure () -> String?,
        maxUploadSize: Int, logger: Logger, state: RequestState
    ) async throws {
        switch request.method {
        case .get, .head, .options, .trace: return
        default: break
        }
        let scheme = security.isSecure ? "https" : "http"
        var origins: Set<String> = []
        if let authority = security.authority ?? request.head.authority?.lowercased() { origins.insert("\(scheme)://\(authority)") }

        guard carriesSessionCookie else {
            // No session cookie, so no ambient credential, except that a cross-site page can still post a form that
            // logs the victim into the attacker's account (login CSRF). Browsers send such "simple" requests without
            // a CORS preflight, so refuse them when they come from another site; JSON and token-authenticated API
            // calls are protected by CORS and go on.
            if request.headers[.authorization] == nil, Self.isSimpleContentType(request.headers[.contentType]) {
                if request.headers[.secFetchSite]?.lowercased() == "cross-site" {
                    throw failure("Cross-site form submission.", security: security, logger: logger)
                }
                if let origin = request.headers[.origin]?.lowercased(), !origins.contains(origin), !trustedOrigins.contains(origin) {
                    throw failure("Origin \(origin.prefix(100)) does not match this site.", security: security, logger: logger)
                }
            }
            return
        }

        if let origin = request.headers[.origin]?.lowercased() {
            guard origins.contains(origin) || trustedOrigins.contains(origin) else {
                throw failure("Origin \(origin.prefix(100)) does not match this site.", security: security, logger: logger)
            }
        } else if security.isSecure {
            guard let referer = request.headers[.referer]?.lowercased() else {
                throw failure("Referer checking failed: no Referer.", security: security, logger: logger)
            }
            let allowed = origins.union(trustedOrigins)
            guard allowed.contains(where: { referer == $0 || referer.hasPrefix($0 + "/") }) else {
                throw failure("Referer checking failed: the Referer is not on this site.", security: security, logger: logger)
            }
        }

        var token = request.headers[.xCSRFToken]
        if token == nil, request.headers[.contentType].flatMap(MediaType.init(essenceOf:))?.names(.applicationUrlEncoded) == true {
            let body = try await request.body.collect(upTo: maxUploadSize)
            request.body = .init(buffer: body)
            let text = String(buffer: body)
            if let fields = Self.formFields(in: text) {
                // The handler reads the same form (KeelWeb's `FormInput.read`): decoded once, here.
                state[ParsedForm.self] = fields
                token = fields[Session.csrfTokenField]
            } else {
                // Not a flat form (`tags[]=a&tags[]=b`, read by the handler its own way): the token alone.
                token = Self.formToken(in: text)
            }
        }
        guard let token, !token.isEmpty else { throw failure("CSRF token missing.", security: security, logger: logger) }
        guard let secret = secret(), CSRFToken.matches(token, secret: secret) else {
            throw failure("CSRF token incorrect.", security: security, logger: logger)
        }
    }

    /// Content types a browser sends cross-site without a CORS preflight (the Fetch standard's CORS-safelisted ones,
    /// compared as media types: case, parameters and surrounding whitespace do not matter). No content type, or one
    /// that cannot be read as a media type, counts as such: the cautious answer, since the cross-site checks then run.
    static func isSimpleContentType(_ value: String?) -> Bool {
        guard let value, let type = MediaType(essenceOf: value) else { return true }
        return type.names(.applicationUrlEncoded) || type.names(.multipartForm) || type.names(.textPlain)
    }

    func failure(_ reason: String, security: RequestSecurity, logger: Logger) -> KeelError {
        logger.warning("csrf failure", metadata: [
            "keel.security.event": "csrf_failure", "csrf.reason": .string(reason), "client": .string(security.clientAddress ?? "-"),
        ])
        return KeelError(.forbidden, code: .csrfFailed, message: "CSRF verification failed. \(reason)")
    }

    /// The fields of a URL-encoded form, decoded by Hummingbird's `URLEncodedFormDecoder`; `nil` when the body does
    /// not decode (a missing token: a failed check, never a 500).
    static func formFields(in body: String) -> [String: String]? {
        try? URLEncodedFormDecoder().decode([String: String].self, from: body)
    }

    /// The token field of any URL-encoded form that decodes; `nil` when it is missing or the body does not decode.
    static func formToken(in body: String) -> String? {
        struct Form: Decodable {
            struct Field: CodingKey {
                var stringValue: String { Session.csrfTokenField }
                var intValue: Int? { nil }
                init() {}
                init?(stringValue: String) { nil }
                init?(intValue: Int) { nil }
            }
            let token: String?
            init(from decoder: any Decoder) throws {
                token = try decoder.container(keyedBy: Field.self).decodeIfPresent(String.self, forKey: Field())
            }
        }
        return (try? URLEncodedFormDecoder().decode(Form.self, from: body))?.token
    }
}

/// A URL-encoded form body the CSRF check already decoded for its token, kept in the request's state so the handler's
/// form reader (KeelWeb's `FormInput.read`) does not decode it again.
public enum ParsedForm: RequestStateKey {
    public static var defaultValue: [String: String]? { nil }
}

extension HTTPField.Name {
    /// `X-CSRF-Token`: the masked CSRF token of a JavaScript-sent unsafe request.
    public static let xCSRFToken = HTTPField.Name("X-CSRF-Token")!
    /// `Sec-Fetch-Site`: where a browser says a request comes from (`same-origin`, `same-site`, `cross-site`, `none`).
    public static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}

extension ErrorCode {
    /// `csrf.failed`: A cookie-authenticated unsafe request failed the CSRF checks.
    public static let csrfFailed: ErrorCode = "csrf.failed"
}

extension Session {
    /// The form field that carries the masked CSRF token (KeelWeb's `{{> keel/csrf}}` writes it).
    public static let csrfTokenField = "csrf_token"

    /// A fresh masked CSRF token for a form field (`csrf_token`) or the `X-CSRF-Token` header. Each call gives a
    /// different string (so the token cannot be recovered through compression side channels); all verify.
    public func csrfToken() -> String {
        CSRFToken.mask(csrfSecret)
    }
}
