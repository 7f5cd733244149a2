package import KeelKernel
public import Hummingbird
import HTTPTypes
public import KeelCore
package import Logging
import Foundation

/// What Keel's transport security enforces (from `http.allowedHosts` and `security.*` settings).
public struct TransportSecurityConfiguration: Sendable {
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

/// Trusted proxies, allowed hosts, the HTTPS redirect and HSTS, in that order.
///
/// - `X-Forwarded-Proto`, `-For` and `-Host` are believed only when the TCP peer is in `trustedProxies`; they then set
///   `context.security.isSecure`, `clientAddress` and `host`.
/// - A Host that is not in `allowedHosts` gets a 400 (`http.disallowed_host`); so does a request with no Host.
/// - With `sslRedirect`, a plain-HTTP request gets a 301 to the same URL on https.
/// - Secure responses get `Strict-Transport-Security` (never plain-HTTP ones: browsers ignore it there).
///
/// Route groups that do not check transport (`health`) skip the host check and the redirect, so load balancers can
/// probe an instance by its address over plain HTTP; the trusted-proxy headers are read for every group.
package struct TransportSecurity: Sendable {
    let configuration: TransportSecurityConfiguration
    let exactHosts: Set<String>
    let suffixes: [String]
    let anyHost: Bool
    /// `Strict-Transport-Security` for secure responses, if HSTS is on, validated once.
    package let hstsField: HTTPField?

    package init(_ configuration: TransportSecurityConfiguration) {
        self.configuration = configuration
        let patterns = configuration.allowedHosts.map { $0.lowercased() }
        anyHost = patterns.contains("*")
        exactHosts = Set(patterns.filter { !$0.hasPrefix(".") }.map(Self.stripPort))
        suffixes = patterns.filter { $0.hasPrefix(".") }
        if configuration.hstsMaxAge > 0 {
            var value = "max-age=\(configuration.hstsMaxAge)"
            if configuration.hstsIncludeSubDomains { value += "; includeSubDomains" }
            if configuration.hstsPreload { value += "; preload" }
            hstsField = HTTPField(name: .strictTransportSecurity, value: value)
        } else {
            hstsField = nil
        }
    }

    /// Fills in `security` (secure, client address, host) from the peer and, if it is a trusted proxy, its
    /// forwarded headers; when `enforcing`, throws the 400 for a host that is not allowed and returns the HTTPS
    /// redirect when one is due.
    package func inspect(
        _ request: Request, peer: PeerAddress?, security: inout RequestSecurity, enforcing: Bool = true, logger: Logger
    ) throws -> Response? {
        let trusted = peer.map { isTrustedProxy($0.bytes) } ?? false
        var host = request.head.authority
        security.clientAddress = peer?.text
        if trusted {
            // The proxy appends its own value last; anything before it came from the client.
            if let proto = request.headers[.xForwardedProto] {
                security.isSecure = Self.lastValue(proto).utf8.elementsEqual("https".utf8) { $0 | 0x20 == $1 }
            }
            if let forwardedHost = request.headers[.xForwardedHost] {
                host = Self.lastValue(forwardedHost)
            }
            if let forwardedFor = request.headers[.xForwardedFor] {
                security.clientAddress = clientAddress(forwardedFor: forwardedFor) ?? peer?.text
            }
        }
        // The whole value must look like a host (and optional port) before any part of it is trusted.
        let authority = host.map(Self.lowercasedASCII).flatMap { Self.isValidAuthority($0) ? $0 : nil }
        let hostName = authority.map(Self.stripPort)
        security.host = hostName
        security.authority = authority
        // Health probes skip the host check and the redirect.
        guard enforcing else { return nil }
        guard let authority, let hostName, isAllowed(hostName) else {
            logger.warning("disallowed host", metadata: ["http.host": .string(String((host ?? "").prefix(100)))])
            throw KeelError(.badRequest, code: .disallowedHost, message: "Invalid Host header.")
        }
        if configuration.sslRedirect && !security.isSecure {
            return Response(status: .movedPermanently, headers: [.location: "https://\(authority)\(request.uri.description)"])
        }
        return nil
    }

    func isAllowed(_ host: String) -> Bool {
        if anyHost || exactHosts.contains(host) { return true }
        guard Self.isValidHostName(host) else { return false }
        return suffixes.contains { suffix in host.hasSuffix(suffix) || host == String(suffix.dropFirst()) }
    }

    /// The nearest address in X-Forwarded-For that is not a trusted proxy (the client as our proxies saw it).
    func clientAddress(forwardedFor: String) -> String? {
        let hops = forwardedFor.split(separator: ",").map { Self.stripHopPort($0.trimmingCharacters(in: .whitespaces)) }
        for hop in hops.reversed() where !hop.isEmpty {
            guard let bytes = IPAddressRange.parse(hop) else { return nil }
            if !isTrustedProxy(bytes) { return hop }
        }
        return hops.first.map { String($0) }
    }

    func isTrustedProxy(_ address: [UInt8]) -> Bool {
        configuration.trustedProxies.contains { $0.contains(bytes: address) }
    }

    /// The last comma-separated value of a header, without surrounding spaces and tabs.
    static func lastValue(_ header: String) -> String {
        let utf8 = header.utf8
        var end = utf8.endIndex
        while end > utf8.startIndex {
            let before = utf8.index(before: end)
            guard utf8[before] == 0x20 || utf8[before] == 0x09 else { break }
            end = before
        }
        var start = end
        while start > utf8.startIndex, utf8[utf8.index(before: start)] != UInt8(ascii: ",") { start = utf8.index(before: start) }
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        return String(header[start..<end])
    }

    /// `1.2.3.4:5678` → `1.2.3.4`, `[::1]:443` → `::1`; a bare address is returned as is.
    static func stripHopPort(_ hop: String) -> String {
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") { return String(hop[hop.index(after: hop.startIndex)..<close]) }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") { return String(hop[..<colon]) }
        return hop
    }

    /// Django's host pattern: a name of `a-z 0-9 . -`, or a bracketed IPv6 literal, then an optional ASCII port.
    /// On the UTF-8 bytes: every character it accepts is ASCII (walking `Character`s was most of its cost).
    static func isValidAuthority(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = bytes[bytes.index(after: bytes.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x3A || $0 == 0x2E })
            else { return false }
            let after = bytes.index(after: close)
            if after == bytes.endIndex { return true }
            guard bytes[after] == UInt8(ascii: ":") else { return false }
            return isPort(bytes[bytes.index(after: after)...])
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            return isHostName(bytes[..<colon]) && isPort(bytes[bytes.index(after: colon)...])
        }
        return isHostName(bytes[...])
    }

    static func isPort(_ bytes: Substring.UTF8View) -> Bool {
        !bytes.isEmpty && bytes.count <= 5 && bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    static func stripPort(_ host: String) -> String {
        let bytes = host.utf8
        if bytes.first == UInt8(ascii: "[") {
            if let close = bytes.firstIndex(of: UInt8(ascii: "]")) { return String(host[...close]) }
            return host
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")), bytes[bytes.index(after: colon)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return String(host[..<colon])
        }
        return host
    }

    /// The value with ASCII letters lowered, copied only when it has an upper-case one (hosts rarely do).
    static func lowercasedASCII(_ value: String) -> String {
        value.utf8.contains { $0 >= 0x41 && $0 <= 0x5A } ? value.lowercased() : value
    }

    /// Letters, digits, hyphens and dots only (RFC 1123), as Django's host validation.
    static func isValidHostName(_ host: String) -> Bool {
        isHostName(host.utf8[...])
    }

    static func isHostName(_ bytes: Substring.UTF8View) -> Bool {
        !bytes.isEmpty && bytes.count <= 253 && bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
        }
    }
}

extension HTTPField.Name {
    public static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    public static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    public static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
}

extension ErrorCode {
    /// `http.disallowed_host`: The Host is not in `http.allowedHosts`.
    public static let disallowedHost: ErrorCode = "http.disallowed_host"
}
