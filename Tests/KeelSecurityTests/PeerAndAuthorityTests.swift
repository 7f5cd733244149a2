import HTTPTypes
import NIOCore
import Testing
@testable import KeelSecurity
@testable import KeelKernel
@testable import KeelCore

@Suite struct PeerAndAuthorityTests {
    @Test func peersAreMadeOnceAsTextAndBytes() throws {
        let v4 = try #require(PeerAddress(try SocketAddress(ipAddress: "10.0.12.255", port: 443)))
        #expect(v4.text == "10.0.12.255")
        #expect(v4.bytes == [10, 0, 12, 255])
        #expect(PeerAddress(try SocketAddress(ipAddress: "0.0.0.0", port: 1))?.text == "0.0.0.0")
        #expect(PeerAddress(try SocketAddress(ipAddress: "199.99.9.100", port: 1))?.text == "199.99.9.100")
        let v6 = try #require(PeerAddress(try SocketAddress(ipAddress: "::1", port: 8080)))
        #expect(v6.text == "::1")
        #expect(v6.bytes == [UInt8](repeating: 0, count: 15) + [1])
        #expect(PeerAddress(nil) == nil)
        // The bytes are what the trusted-proxy ranges compare.
        let loopback = try #require(IPAddressRange("127.0.0.0/8"))
        #expect(loopback.contains(bytes: try #require(PeerAddress(try SocketAddress(ipAddress: "127.0.0.1", port: 1))).bytes))
        #expect(!loopback.contains(bytes: v4.bytes))
    }

    @Test func authoritiesAreDjangosHostPatternOnBytes() {
        for valid in ["example.com", "example.com:8080", "a-b.example.org", "[::1]", "[::1]:443", "127.0.0.1:80", "[2001:db8::1]"] {
            #expect(TransportSecurity.isValidAuthority(valid), "\(valid)")
        }
        for invalid in ["", "exa mple.com", "example.com:", "example.com:123456", "[::1", "[::g]", "[]", "[::1]x", "exämple.com",
                        "example.com:80:80", "example.com:８０", "exa_mple.com", ":80", "example.com:80@evil.com"] {
            #expect(!TransportSecurity.isValidAuthority(invalid), "\(invalid)")
        }
        #expect(TransportSecurity.stripPort("example.com:8080") == "example.com")
        #expect(TransportSecurity.stripPort("[::1]:443") == "[::1]")
        #expect(TransportSecurity.stripPort("example.com") == "example.com")
        #expect(TransportSecurity.lowercasedASCII("Example.COM:80") == "example.com:80")
        #expect(TransportSecurity.lowercasedASCII("already.lower") == "already.lower")
    }
}

@Suite struct SecurityHeadersUnitTests {
    @Test func thePolicyGetsTheNonceWhereverItAsksAndRouteHeadersWin() throws {
        #expect(SecurityHeaders.policy(["a 'nonce-", "'; b 'nonce-", "'"], nonce: "XyZ") == "a 'nonce-XyZ'; b 'nonce-XyZ'")
        #expect(SecurityHeaders.policy(["default-src 'self'"], nonce: "XyZ") == "default-src 'self'")
        let headers = SecurityHeaders(.init(cspPolicy: "script-src 'nonce-{nonce}'"))
        let nonce = try #require(headers.makeNonce())
        #expect(nonce.utf8.count == 22)
        var fields: HTTPFields = [.xFrameOptions: "SAMEORIGIN"]
        headers.apply(to: &fields, nonce: nonce)
        #expect(fields[values: .xFrameOptions] == ["SAMEORIGIN"])
        #expect(fields[HTTPField.Name("Content-Security-Policy")!] == "script-src 'nonce-\(nonce)'")
        #expect(fields[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        #expect(SecurityHeaders(.init(cspPolicy: nil)).makeNonce() == nil)
    }
}
