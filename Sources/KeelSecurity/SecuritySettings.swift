import KeelCore
public import KeelSettings

/// `X-Frame-Options` (`security.frameOptions`).
public enum FrameOptions: String, Sendable, SettingEnum {
    case deny = "DENY"
    case sameOrigin = "SAMEORIGIN"
}

/// `Referrer-Policy` (`security.referrerPolicy`).
public enum ReferrerPolicy: String, Sendable, SettingEnum {
    case noReferrer = "no-referrer"
    case noReferrerWhenDowngrade = "no-referrer-when-downgrade"
    case origin
    case originWhenCrossOrigin = "origin-when-cross-origin"
    case sameOrigin = "same-origin"
    case strictOrigin = "strict-origin"
    case strictOriginWhenCrossOrigin = "strict-origin-when-cross-origin"
    case unsafeURL = "unsafe-url"
}

/// `Cross-Origin-Opener-Policy` (`security.crossOriginOpenerPolicy`).
public enum CrossOriginOpenerPolicy: String, Sendable, SettingEnum {
    case sameOrigin = "same-origin"
    case sameOriginAllowPopups = "same-origin-allow-popups"
    case unsafeNone = "unsafe-none"
}

/// The security settings keys (see `docs/security.md`). Every default is the safe choice.
public enum SecuritySettings {
    public static let allowedHosts = Setting<[String]>(
        "http.allowedHosts", default: ["localhost", "127.0.0.1", "[::1]"], requiredIn: [.staging, .production],
        doc: "Host names this app answers to (`example.com`, `.example.com` for subdomains too, `*` for any: flagged). Any other Host gets a 400.")
    public static let maxURLLength = Setting<Int>(
        "http.maxURLLength", default: 8192, allowed: .range(256...1_048_576),
        doc: "Longest request target (path and query) in bytes; longer ones get a 414.")
    public static let maxHeaderBytes = Setting<Int>(
        "http.maxHeaderBytes", default: 32_768, allowed: .range(1024...1_048_576),
        doc: "Largest total size of the request's header fields in bytes; larger ones get a 431.")
    public static let requestTimeout = Setting<Duration>(
        "http.requestTimeout", default: .seconds(30), allowed: .range(.zero ... .seconds(3600)),
        doc: "Longest a handler may work on a request before it is cancelled and answered 503 http.timeout; 0 turns the limit off.")
    public static let timeoutRetryAfter = Setting<Duration>(
        "http.timeoutRetryAfter", default: .seconds(5), allowed: .range(.seconds(1) ... .seconds(3600)),
        doc: "What the 503 http.timeout's Retry-After tells a client to wait (whole seconds, rounded up).")

    public static let sslRedirect = Setting<Bool>(
        "security.sslRedirect", default: false, profiles: [.staging: true, .production: true],
        doc: "Redirect plain-HTTP requests to HTTPS with a 301 (health endpoints exempt). Behind a proxy, list it in security.trustedProxies.")
    public static let trustedProxies = Setting<[String]>(
        "security.trustedProxies", default: ["127.0.0.1", "::1"],
        allowed: .init(allowed: "IP addresses or CIDR ranges") { list in
            list.first { IPAddressRange($0) == nil }.map { "'\($0)' is not an IP address or CIDR range" }
        },
        doc: "Addresses or CIDR ranges of proxies whose X-Forwarded-Proto/-For/-Host are believed; from anyone else they are ignored.")
    public static let hstsMaxAge = Setting<Int>(
        "security.hsts.maxAge", default: 31_536_000, allowed: .range(0...63_072_000),
        doc: "Strict-Transport-Security max-age in seconds, sent on HTTPS responses only; 0 turns HSTS off.")
    public static let hstsIncludeSubDomains = Setting<Bool>(
        "security.hsts.includeSubDomains", default: true, doc: "Add includeSubDomains to Strict-Transport-Security.")
    public static let hstsPreload = Setting<Bool>(
        "security.hsts.preload", default: false,
        doc: "Add preload to Strict-Transport-Security (only once you have submitted the domain to the browsers' preload list).")

    public static let cspEnabled = Setting<Bool>(
        "security.csp.enabled", default: true, doc: "Send a Content-Security-Policy on every response.")
    public static let cspPolicy = Setting<String>(
        "security.csp.policy",
        default: "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        allowed: .nonEmpty,
        doc: "The policy; `{nonce}` becomes the request's fresh nonce (handlers and templates read it as context.cspNonce).")
    public static let cspReportOnly = Setting<Bool>(
        "security.csp.reportOnly", default: false,
        doc: "Send Content-Security-Policy-Report-Only instead, to try a policy without enforcing it.")
    public static let cspReportPath = Setting<String?>(
        "security.csp.reportPath", default: "/csp-report",
        doc: "Where browsers send violation reports (logged, rate-limited); empty for none.")
    public static let cspReportsPerMinute = Setting<Int>(
        "security.csp.reportsPerMinute", default: 60, allowed: .range(1...100_000),
        doc: "Violation reports logged per minute per instance; beyond that they are answered 429 and dropped.")
    public static let frameOptions = Setting<FrameOptions>(
        "security.frameOptions", default: .deny,
        doc: "X-Frame-Options (frame-ancestors in the policy says the same to newer browsers).")
    public static let referrerPolicy = Setting<ReferrerPolicy>(
        "security.referrerPolicy", default: .sameOrigin,
        doc: "Referrer-Policy.")
    public static let crossOriginOpenerPolicy = Setting<CrossOriginOpenerPolicy>(
        "security.crossOriginOpenerPolicy", default: .sameOrigin,
        doc: "Cross-Origin-Opener-Policy.")
    public static let contentTypeNosniff = Setting<Bool>(
        "security.contentTypeNosniff", default: true, doc: "Send X-Content-Type-Options: nosniff.")

    public static let csrfTrustedOrigins = Setting<[String]>(
        "security.csrf.trustedOrigins", default: [],
        allowed: .init(allowed: "origins such as https://app.example.com") { origins in
            origins.first { !($0.hasPrefix("https://") || $0.hasPrefix("http://")) || $0.hasSuffix("/") }
                .map { "'\($0)' is not an origin (scheme://host[:port], no path)" }
        },
        doc: "Other origins whose cookie-authenticated unsafe requests are accepted (a separate front end).")
    public static let signingKey = Setting<String>(
        "signing.key", default: "keel-insecure-development-key-change-me", requiredIn: [.staging, .production], secret: true,
        allowed: .nonEmpty,
        doc: "Secret key for signatures (sessions, tokens). At least 32 random bytes; `conduit keys generate` prints one.")
    public static let signingFallbackKeys = Setting<[String]>(
        "signing.fallbackKeys", default: [], secret: true,
        doc: "Previous signing keys, still accepted when verifying, so a key can be rotated without logging anyone out.")
    public static let corsAllowedOrigins = Setting<[String]>(
        "cors.allowedOrigins", default: [],
        allowed: .init(allowed: "origins such as https://app.example.com, or *") { origins in
            origins.first { $0 != "*" && (!($0.hasPrefix("https://") || $0.hasPrefix("http://")) || $0.hasSuffix("/")) }
                .map { "'\($0)' is not an origin (scheme://host[:port], no path)" }
        },
        doc: "Origins allowed to call the API (the `api` route group) from a browser; empty (the default) turns CORS off. `*` allows any (flagged).")

    public static var all: [any AnySetting] {
        [
            corsAllowedOrigins,
            allowedHosts, maxURLLength, maxHeaderBytes, requestTimeout, timeoutRetryAfter,
            sslRedirect, trustedProxies, hstsMaxAge, hstsIncludeSubDomains, hstsPreload,
            cspEnabled, cspPolicy, cspReportOnly, cspReportPath, cspReportsPerMinute,
            frameOptions, referrerPolicy, crossOriginOpenerPolicy, contentTypeNosniff,
            csrfTrustedOrigins,
            signingKey, signingFallbackKeys,
        ]
    }
}
