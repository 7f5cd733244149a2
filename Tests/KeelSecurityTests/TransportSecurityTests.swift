import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct AllowedHostsTests {
    @Test func hostsOutsideTheListGetA400WithTheSecurityHeaders() async throws {
        let app = try await KeelTestApplication.secure(values: ["http.allowedHosts": "example.com,.example.org", "http.port": "0"])
        try await app.withRunningServer { client in
            for host in ["evil.com", "example.com.evil.com", "notexample.org", "exa_mple.com", "example.com:80@evil.com", "example.com:８０"] {
                let response = try await client.execute(.init("/page", method: .get, authority: host))
                #expect(response.status == .badRequest, "\(host)")
                #expect(response.body.map { String(buffer: $0) }?.contains("http.disallowed_host") == true)
                #expect(response.headers[.xFrameOptions] == "DENY")
            }
            for host in ["example.com", "EXAMPLE.com:8443", "api.example.org", "example.org"] {
                let response = try await client.execute(.init("/page", method: .get, authority: host))
                #expect(response.status == .ok, "\(host)")
            }
        }
        #expect(app.logObjects.contains { $0["msg"] == "disallowed host" })
    }

    @Test func healthEndpointsAnswerWhateverTheHost() async throws {
        let app = try await KeelTestApplication.secure(values: ["http.allowedHosts": "example.com", "http.port": "0"])
        try await app.withRunningServer { client in
            let response = try await client.execute(.init("/health/live", method: .get, authority: "10.1.2.3:8080"))
            #expect(response.status == .ok)
        }
    }
}

@Suite struct HTTPSAndProxyTests {
    @Test func plainHTTPIsRedirectedToHTTPSExceptHealth() async throws {
        let app = try await KeelTestApplication.secure(profile: .production, values: productionValues.merging(["http.port": "0"]) { $1 })
        try await app.withRunningServer { client in
            let response = try await client.execute(.init("/page?x=1", method: .get, authority: "example.com"))
            #expect(response.status == .movedPermanently)
            #expect(response.headers[.location] == "https://example.com/page?x=1")
            #expect(response.headers[.strictTransportSecurity] == nil)
            let health = try await client.execute(.init("/health/live", method: .get, authority: "example.com"))
            #expect(health.status == .ok)
        }
    }

    @Test func aTrustedProxySaysTheRequestIsSecureAndWhoTheClientIs() async throws {
        // `.live` connects over loopback, which the default security.trustedProxies trusts.
        let app = try await KeelTestApplication.secure(profile: .production, values: productionValues.merging(["http.port": "0"]) { $1 })
        try await app.application().test(.live) { client in
            let response = try await client.execute(uri: "/client", method: .get, headers: [
                .xForwardedProto: "https", .xForwardedFor: "203.0.113.9, 10.0.0.1, 127.0.0.1", .xForwardedHost: "example.com",
            ])
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "10.0.0.1 true example.com")
            #expect(response.headers[.strictTransportSecurity] == "max-age=31536000; includeSubDomains")
        }
        await app.keel.database.shutdown()
    }

    @Test func onlyTheValueTheProxyAppendedIsBelieved() async throws {
        let app = try await KeelTestApplication.secure(profile: .production, values: productionValues.merging(["http.port": "0"]) { $1 })
        try await app.application().test(.live) { client in
            // The client sent "https" first; the proxy appended what it saw: "http".
            let spoofed = try await client.execute(uri: "/client", method: .get, headers: [.xForwardedProto: "https, http"])
            #expect(spoofed.status == .movedPermanently)
            let ported = try await client.execute(uri: "/client", method: .get, headers: [
                .xForwardedProto: "https", .xForwardedFor: "203.0.113.9:51000, [2001:db8::7]:443",
            ])
            #expect(String(buffer: ported.body).hasPrefix("2001:db8::7 true"))
        }
        await app.keel.database.shutdown()
    }

    @Test func forwardedHeadersFromAnUntrustedPeerAreIgnored() async throws {
        let app = try await KeelTestApplication.secure(
            profile: .production, values: productionValues.merging(["http.port": "0", "security.trustedProxies": "10.9.9.9"]) { $1 })
        try await app.application().test(.live) { client in
            let response = try await client.execute(uri: "/client", method: .get, headers: [.xForwardedProto: "https", .xForwardedFor: "1.2.3.4"])
            #expect(response.status == .movedPermanently)
            let health = try await client.execute(uri: "/health/live", method: .get, headers: [.xForwardedProto: "https"])
            #expect(health.headers[.strictTransportSecurity] == nil)
        }
        await app.keel.database.shutdown()
    }

    @Test func hstsFollowsItsSettings() async throws {
        let values = productionValues.merging(["http.port": "0", "security.hsts.maxAge": "600", "security.hsts.includeSubDomains": "false",
                                               "security.hsts.preload": "true"]) { $1 }
        let app = try await KeelTestApplication.secure(profile: .production, values: values)
        try await app.application().test(.live) { client in
            let response = try await client.execute(uri: "/nowhere", method: .get, headers: [.xForwardedProto: "https"])
            #expect(response.status == .notFound)
            #expect(response.headers[.strictTransportSecurity] == "max-age=600; preload")
        }
        await app.keel.database.shutdown()
    }
}

@Suite struct InputLimitTests {
    @Test func aDeclaredBodyOverTheLimitIsA413BeforeItIsRead() async throws {
        let app = try await KeelTestApplication.secure(values: ["http.maxBodySize": "1024"])
        try await app.application().test(.router) { client in
            let big = ByteBuffer(string: #"{"text":""# + String(repeating: "a", count: 5000) + #""}"#)
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: big) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("http.payload_too_large"))
            }
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"text":"small"}"#)) { #expect($0.status == .ok) }
        }
        await app.keel.database.shutdown()
    }

    @Test func aStreamedBodyOverTheLimitIsA413() async throws {
        let app = try await KeelTestApplication.secure(values: ["http.maxBodySize": "1024", "http.port": "0"])
        try await app.application().test(.live) { client in
            // No Content-Length: chunked, so only reading can find the size.
            let big = ByteBuffer(string: #"{"text":""# + String(repeating: "a", count: 5000) + #""}"#)
            let response = try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json", .transferEncoding: "chunked"], body: big)
            #expect(response.status == .contentTooLarge)
        }
        await app.keel.database.shutdown()
    }

    @Test func longURLsAndHugeHeadersAreRefused() async throws {
        let app = try await KeelTestApplication.secure(values: ["http.maxURLLength": "256", "http.maxHeaderBytes": "2048"])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/page?q=" + String(repeating: "x", count: 300), method: .get) { response in
                #expect(response.status == .uriTooLong)
            }
            try await client.execute(uri: "/page", method: .get, headers: [.init("X-Big")!: String(repeating: "y", count: 3000)]) { response in
                #expect(response.status == .requestHeaderFieldsTooLarge)
            }
            try await client.execute(uri: "/echo", method: .post, headers: [.contentLength: "-5"]) { #expect($0.status == .badRequest) }
        }
        await app.keel.database.shutdown()
    }
}

@Suite struct RequestTimeoutTests {
    @Test func aHandlerPastTheDeadlineIsCancelledWithA503() async throws {
        let probe = SecureProbe()
        let app = try await KeelTestApplication.secure(values: ["http.requestTimeout": "100ms"], probe: probe)
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/sleepy", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("http.timeout"))
                #expect(response.headers[.retryAfter] == "5")
                #expect(response.headers[.xFrameOptions] == "DENY")
                #expect(response.headers[.xRequestID] != nil)
            }
            // The handler would sleep 30 s and answer "woke": it was cancelled instead (no wall clock in the assertion).
            #expect(probe.sleeps.all == ["cancelled"])
            try await client.execute(uri: "/page", method: .get) { #expect($0.status == .ok) }
        }
        #expect(app.logObjects.contains { $0["msg"] == "request timed out" && $0["http.timeout_ms"] == "100" })
        await app.keel.database.shutdown()
    }

    /// The 503's `Retry-After` is `http.timeoutRetryAfter`, rounded up to whole seconds.
    @Test func retryAfterComesFromItsSetting() async throws {
        let app = try await KeelTestApplication.secure(values: ["http.requestTimeout": "50ms", "http.timeoutRetryAfter": "90500ms"])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/sleepy", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "91")
            }
        }
        await app.keel.database.shutdown()
    }
}
