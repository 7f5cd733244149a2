public import Hummingbird
import HTTPTypes
import KeelCore
import Logging
import Foundation

/// Trusted proxies, allowed hosts, the HTTPS redirect and HSTS, in that order.
///
/// - `X-Forwarded-Proto`, `-For` and `-Host` are believed only when the TCP peer is in `trustedProxies`; they then set
///   `context.security.isSecure`, `clientAddress` and `host`.
/// - A Host that is not in `allowedHosts` gets a 400 (`http.disallowed_host`); so does a request with no Host.
/// - With `sslRedirect`, a plain-HTTP request gets a 301 to the same URL on https.
/// - Secure responses get `Strict-Transport-Security` (never plain-HTTP ones: browsers ignore it there).
///
/// Health endpoints (`/health/…`) skip the host check and the redirect, so load balancers can probe an instance by
/// its address over plain HTTP. Put it inside `ErrorRenderingMiddleware`.
public struct TransportSecurityMiddleware<Context: SecurityRequestContext>: RouterMiddleware {
    /// What the middleware enforces.
    public struct Configuration: Sendable {
        public var allowedHosts: [String]
        public var trustedProxies: [IPAddressRange]
        public var sslRedirect: Bool
        public var hstsMaxAge: Int
        public var hstsIncludeSubDomains: Bool
        public var hstsPreload: Bool

        public init(
            allowedHosts: [String], trustedProxies: [IPAddressRange], sslRedirect: Bool,
            hstsMaxAge: Int, hstsIncludeSubDomains: Bool, hstsPreload: Bool
        ) {
            self.allowedHosts = allowedHosts
            self.trustedProxies = trustedProxies
            self.sslRedirect = sslRedirect
            self.hstsMaxAge = hstsMaxAge
            self.hstsIncludeSubDomains = hstsIncludeSubDomains
            self.hstsPreload = hstsPreload
        }
    }

    let configuration: Configuration
    let exactHosts: Set<String>
    let suffixes: [String]
    let anyHost: Bool
    let hsts: String?

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        let patterns = configuration.allowedHosts.map { $0.lowercased() }
        anyHost = patterns.contains("*")
        exactHosts = Set(patterns.filter { !$0.hasPrefix(".") }.map(Self.stripPort))
        suffixes = patterns.filter { $0.hasPrefix(".") }
        if configuration.hstsMaxAge > 0 {
            var value = "max-age=\(configuration.hstsMaxAge)"
            if configuration.hstsIncludeSubDomains { value += "; includeSubDomains" }
            if configuration.hstsPreload { value += "; preload" }
            hsts = value
        } else {
            hsts = nil
        }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let peer = context.peerAddress
        let trusted = peer.map { address in configuration.trustedProxies.contains { $0.contains(address) } } ?? false
        var host = request.head.authority
        context.security.clientAddress = peer
        if trusted {
            if let proto = request.headers[.xForwardedProto] {
                context.security.isSecure = Self.firstValue(proto).lowercased() == "https"
            }
            if let forwardedHost = request.headers[.xForwardedHost] {
                host = Self.firstValue(forwardedHost)
            }
            if let forwardedFor = request.headers[.xForwardedFor] {
                context.security.clientAddress = clientAddress(forwardedFor: forwardedFor) ?? peer
            }
        }
        let hostName = host.map { Self.stripPort($0.lowercased()) }
        context.security.host = hostName
        let isHealth = request.uri.path.hasPrefix("/health/")

        if !isHealth {
            guard let hostName, isAllowed(hostName) else {
                context.logger.warning("disallowed host", metadata: ["http.host": .string(String((host ?? "").prefix(100)))])
                throw KeelError(.badRequest, code: "http.disallowed_host", message: "Invalid Host header.")
            }
            if configuration.sslRedirect && !context.security.isSecure {
                let target = "https://\(host ?? hostName)\(request.uri.description)"
                return Response(status: .movedPermanently, headers: [.location: target])
            }
        }

        guard context.security.isSecure, let hsts else { return try await next(request, context) }
        do {
            var response = try await next(request, context)
            if response.headers[.strictTransportSecurity] == nil { response.headers[.strictTransportSecurity] = hsts }
            return response
        } catch {
            throw ErrorWithExtraHeaders(error, [.strictTransportSecurity: hsts])
        }
    }

    func isAllowed(_ host: String) -> Bool {
        if anyHost || exactHosts.contains(host) { return true }
        guard Self.isValidHostName(host) else { return false }
        return suffixes.contains { suffix in host.hasSuffix(suffix) || host == String(suffix.dropFirst()) }
    }

    /// The nearest address in X-Forwarded-For that is not a trusted proxy (the client as our proxies saw it).
    func clientAddress(forwardedFor: String) -> String? {
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !hop.isEmpty {
            if IPAddressRange.parse(hop) == nil { return nil }
            if !configuration.trustedProxies.contains(where: { $0.contains(hop) }) { return hop }
        }
        return hops.first.map { String($0) }
    }

    static func firstValue(_ header: String) -> String {
        String(header.split(separator: ",").first ?? "").trimmingCharacters(in: .whitespaces)
    }

    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { return String(host[...close]) }
            return host
        }
        if let colon = host.lastIndex(of: ":"), host[host.index(after: colon)...].allSatisfy(\.isNumber) {
            return String(host[..<colon])
        }
        return host
    }

    /// Letters, digits, hyphens and dots only (RFC 1123), as Django's host validation.
    static func isValidHostName(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.count <= 253 && host.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
        }
    }
}

extension HTTPField.Name {
    public static var xForwardedProto: HTTPField.Name { HTTPField.Name("X-Forwarded-Proto")! }
    public static var xForwardedFor: HTTPField.Name { HTTPField.Name("X-Forwarded-For")! }
    public static var xForwardedHost: HTTPField.Name { HTTPField.Name("X-Forwarded-Host")! }
}
