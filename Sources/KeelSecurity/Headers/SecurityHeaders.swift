public import KeelKernel
public import Hummingbird
import HTTPTypes
package import KeelCore
import Foundation

/// What Keel's security headers are: the headers and the policy (from `security.*` settings).
public struct SecurityHeadersConfiguration: Sendable {
    public var cspPolicy: String?
    public var cspReportOnly: Bool
    public var cspReportPath: String?
    public var frameOptions: String
    public var referrerPolicy: String
    public var crossOriginOpenerPolicy: String
    public var contentTypeNosniff: Bool

    public init(
        cspPolicy: String?, cspReportOnly: Bool = false, cspReportPath: String? = nil, frameOptions: String = "DENY",
        referrerPolicy: String = "same-origin", crossOriginOpenerPolicy: String = "same-origin", contentTypeNosniff: Bool = true
    ) {
        self.cspPolicy = cspPolicy
        self.cspReportOnly = cspReportOnly
        self.cspReportPath = cspReportPath
        self.frameOptions = frameOptions
        self.referrerPolicy = referrerPolicy
        self.crossOriginOpenerPolicy = crossOriginOpenerPolicy
        self.contentTypeNosniff = contentTypeNosniff
    }
}

/// Keel's hardening headers on every response, error responses included, never overwriting what a route set:
/// Content-Security-Policy (with a fresh nonce per request), X-Frame-Options, X-Content-Type-Options,
/// Referrer-Policy and Cross-Origin-Opener-Policy.
///
/// The nonce is on `context.security.cspNonce` before the handler runs: put it on inline scripts and styles
/// (`<script nonce="{{nonce}}">`). A route that needs another policy sets the header itself, or uses
/// `SecurityPolicyOverride` to tighten or (visibly) loosen it.
package struct SecurityHeaders: Sendable {
    let fixed: HTTPFields
    /// The policy split around `{nonce}`, so each request only joins strings.
    let policyParts: [String]?
    let policyField: HTTPField.Name
    let random: RandomPool

    package init(_ configuration: SecurityHeadersConfiguration, random: RandomPool = RandomPool()) {
        self.random = random
        var fields = HTTPFields()
        fields[.xFrameOptions] = configuration.frameOptions
        if configuration.contentTypeNosniff { fields[.xContentTypeOptions] = "nosniff" }
        fields[.referrerPolicy] = configuration.referrerPolicy
        fields[.crossOriginOpenerPolicy] = configuration.crossOriginOpenerPolicy
        fixed = fields
        if var policy = configuration.cspPolicy, !policy.isEmpty {
            if let path = configuration.cspReportPath, !policy.contains("report-uri") { policy += "; report-uri \(path)" }
            policyParts = policy.components(separatedBy: "{nonce}")
        } else {
            policyParts = nil
        }
        policyField = configuration.cspReportOnly ? .contentSecurityPolicyReportOnly : .contentSecurityPolicy
    }

    /// A fresh nonce for this request's policy (128 random bits, base64url, what CSP nonces are usually made of), or
    /// `nil` when no policy is sent.
    package func makeNonce() -> String? {
        policyParts == nil ? nil : random.base64URL(byteCount: 16)
    }

    /// Appends the headers a route did not set itself straight into the response's fields (no intermediate list).
    package func apply(to headers: inout HTTPFields, nonce: String?) {
        for field in fixed where !headers.contains(field.name) {
            headers.append(field)
        }
        if let policyParts, let nonce, !headers.contains(policyField) {
            headers.append(HTTPField(name: policyField, value: Self.policy(policyParts, nonce: nonce)))
        }
    }

    /// The policy with the request's nonce wherever it has `{nonce}` (also `SecurityPolicyOverride`'s).
    static func policy(_ parts: [String], nonce: String) -> String {
        parts.joined(separator: nonce)
    }
}

/// Replaces the Content-Security-Policy for the routes it is added to: tighter, or looser with a stated reason, so
/// every loosening is explicit in code review. (Browsers give a policy's `frame-ancestors` precedence over
/// X-Frame-Options, so a loosened `frame-ancestors` allows framing by those origins.)
///
/// ```swift
/// router.group("/embed").add(middleware: SecurityPolicyOverride.loosened(
///     "default-src 'self'; frame-ancestors https://partner.example", reason: "embedded by the partner portal"))
/// ```
public struct SecurityPolicyOverride<Context: SecurityRequestContext>: RouterMiddleware {
    let parts: [String]
    /// Why the policy is looser than the application's, when it is.
    public let loosenedBecause: String?

    /// A stricter policy (`{nonce}` is the request's nonce).
    public static func tightened(_ policy: String) -> Self {
        Self(parts: policy.components(separatedBy: "{nonce}"), loosenedBecause: nil)
    }

    /// A looser policy; `reason` says why and must not be empty.
    public static func loosened(_ policy: String, reason: String) -> Self {
        precondition(!reason.isEmpty, "Loosening a security policy needs a reason.")
        return Self(parts: policy.components(separatedBy: "{nonce}"), loosenedBecause: reason)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = SecurityHeaders.policy(parts, nonce: context.security.cspNonce)
        }
        return response
    }
}

extension HTTPField.Name {
    public static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    public static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    public static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    public static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    public static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    public static let contentSecurityPolicyReportOnly = HTTPField.Name("Content-Security-Policy-Report-Only")!
}
