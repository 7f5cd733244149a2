import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct SecurityHeadersTests {
    @Test func everyResponseCarriesTheHardeningHeaders() async throws {
        let app = try await KeelTestApplication.secure()
        try await app.application().test(.router) { client in
            for uri in ["/page", "/nowhere", "/crash", "/health/live"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.headers[.xFrameOptions] == "DENY", "\(uri)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    #expect(response.headers[.referrerPolicy] == "same-origin", "\(uri)")
                    #expect(response.headers[.crossOriginOpenerPolicy] == "same-origin", "\(uri)")
                    let csp = try #require(response.headers[.contentSecurityPolicy], "\(uri)")
                    #expect(csp.contains("default-src 'self'"))
                    #expect(csp.contains("frame-ancestors 'none'"))
                    #expect(csp.contains("report-uri /csp-report"))
                }
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func theNonceIsFreshPerRequestAndReadableByTheHandler() async throws {
        let app = try await KeelTestApplication.secure()
        try await app.application().test(.router) { client in
            var seen: Set<String> = []
            for _ in 0..<3 {
                try await client.execute(uri: "/page", method: .get) { response in
                    let nonce = String(buffer: response.body)
                    #expect(nonce.count >= 22)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("'nonce-\(nonce)'") == true)
                    seen.insert(nonce)
                }
            }
            #expect(seen.count == 3)
        }
        await app.keel.database.shutdown()
    }

    @Test func headersARouteSetAreNeverOverwritten() async throws {
        let app = try await KeelTestApplication.secure()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/own-headers", method: .get) { response in
                #expect(response.headers[.xFrameOptions] == "SAMEORIGIN")
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func aRouteCanTightenOrVisiblyLoosenItsPolicy() async throws {
        let app = try await KeelTestApplication.secure()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/embed/widget", method: .get) { response in
                #expect(response.headers[.contentSecurityPolicy] == "frame-ancestors https://partner.example")
            }
            try await client.execute(uri: "/strict/page", method: .get) { response in
                let nonce = String(buffer: response.body)
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'; script-src 'nonce-\(nonce)'")
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func reportOnlyModeAndSettingsAreHonoured() async throws {
        let app = try await KeelTestApplication.secure(values: [
            "security.csp.reportOnly": "true", "security.frameOptions": "SAMEORIGIN", "security.referrerPolicy": "no-referrer",
            "security.crossOriginOpenerPolicy": "same-origin-allow-popups", "security.csp.reportPath": "",
        ])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/page", method: .get) { response in
                #expect(response.headers[.contentSecurityPolicy] == nil)
                #expect(response.headers[.contentSecurityPolicyReportOnly]?.contains("default-src 'self'") == true)
                #expect(response.headers[.contentSecurityPolicyReportOnly]?.contains("report-uri") == false)
                #expect(response.headers[.xFrameOptions] == "SAMEORIGIN")
                #expect(response.headers[.referrerPolicy] == "no-referrer")
                #expect(response.headers[.crossOriginOpenerPolicy] == "same-origin-allow-popups")
            }
        }
        await app.keel.database.shutdown()
    }

    /// At most `security.csp.reportsPerMinute` a minute of the application's clock (a test's clock: the three reports
    /// used to straddle a wall-clock minute now and then, and the third passed).
    @Test func violationReportsAreLoggedAndRateLimited() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let app = try await KeelTestApplication.secure(values: ["security.csp.reportsPerMinute": "2"], clock: clock)
        let report = #"{"csp-report":{"document-uri":"https://example.com/x","violated-directive":"script-src","blocked-uri":"https://evil.example/a.js"}}"#
        try await app.application().test(.router) { client in
            for expected in [HTTPResponse.Status.noContent, .noContent, .tooManyRequests] {
                try await client.execute(uri: "/csp-report", method: .post, headers: [.contentType: "application/csp-report"],
                                         body: ByteBuffer(string: report)) { #expect($0.status == expected) }
            }
            clock.advance(by: .seconds(60))
            try await client.execute(uri: "/csp-report", method: .post, headers: [.contentType: "application/csp-report"],
                                     body: ByteBuffer(string: report)) { #expect($0.status == .noContent, "a new minute, a new allowance") }
        }
        let logged = app.logObjects.filter { $0["msg"] == "csp violation" }
        #expect(logged.count == 3)
        #expect(logged.first?["csp.blocked"] == "https://evil.example/a.js")
        await app.keel.database.shutdown()
    }
}
