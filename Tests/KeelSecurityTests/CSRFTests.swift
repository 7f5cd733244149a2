import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// The routes the CSRF tests post to: a form's token, a write that reads the whole form body, who is signed in, an API
/// route (token auth, no CSRF) and a group exempt from CSRF.
struct CSRFProbe: KeelModule {
    var name: String { "csrf-probe" }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let router = routes.web
        router.get("/whoami") { _, context in "\(context.session.userID ?? "-") \(context.session["colour"] ?? "-")" }
        router.get("/form") { _, context in context.session.csrfToken() }
        router.post("/colour") { request, context -> String in
            let body = String(buffer: try await request.body.collect(upTo: 10_000))
            context.session["colour"] = body.contains("colour=blue") ? "blue" : "red"
            return "saved"
        }
        router.post("/login") { _, context -> String in
            context.session.login(userID: "u1")
            return "in"
        }
        router.post("/parsed") { _, context -> String in
            context.state[ParsedForm.self].map { "parsed \($0.keys.sorted().joined(separator: ","))" } ?? "not parsed"
        }
        routes.api.post("/api/things") { _, _ in "created" }
        routes.group(.web.exemptingCSRF(because: "payment webhooks are signed by the provider")).post("/hooks/payment") { _, _ in "ok" }
    }
}

extension KeelTestApplication {
    /// The probe on a migrated in-memory database (sessions are stored there).
    static func csrfProbe(values: [String: String] = [:]) async throws -> KeelTestApplication {
        var all = values
        all["database.url"] = "sqlite://:memory:"
        let app = try await make(modules: [CSRFProbe()], values: all)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }
}

@Suite struct CSRFTests {
    /// A session key and a valid token for it.
    func session(_ client: any TestClientProtocol) async throws -> (key: String, token: String) {
        try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
    }

    @Test func aValidHeaderOrFormTokenPasses() async throws {
        let app = try await KeelTestApplication.csrfProbe()
        try await app.application().test(.router) { client in
            let (key, token) = try await session(client)
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]) { #expect($0.status == .ok) }
            let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "colour=blue&csrf_token=\(encoded)")) { #expect($0.status == .ok) }
            // The handler still read the whole form body.
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect(String(buffer: $0.body) == "- blue") }
            // Every token is masked differently, and each verifies.
            let other = try await client.execute(uri: "/form", method: .get, headers: HTTPFields.sessionCookie(key)) { String(buffer: $0.body) }
            #expect(other != token)
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: other]) { #expect($0.status == .ok) }
        }
    }

    /// The form the check decoded for its token is kept for the handler (KeelWeb's `FormInput.read` uses it: one decode
    /// per form); a form that is not flat (`tags[]=…`) still has its token found.
    @Test func theCheckedFormIsDecodedOnceAndNonFlatFormsStillPass() async throws {
        let app = try await KeelTestApplication.csrfProbe()
        try await app.application().test(.router) { client in
            let (key, token) = try await session(client)
            let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let form: HTTPFields = HTTPFields.sessionCookie(key) + [.contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/parsed", method: .post, headers: form, body: ByteBuffer(string: "b=2&a=1&csrf_token=\(encoded)")) {
                #expect($0.status == .ok)
                #expect(String(buffer: $0.body) == "parsed a,b,csrf_token")
            }
            try await client.execute(uri: "/parsed", method: .post, headers: HTTPFields.sessionCookie(key) + [.xCSRFToken: token]) {
                #expect(String(buffer: $0.body) == "not parsed", "a token in the header reads no body")
            }
            try await client.execute(uri: "/colour", method: .post, headers: form,
                                     body: ByteBuffer(string: "tags[]=a&tags[]=b&colour=blue&csrf_token=\(encoded)")) { #expect($0.status == .ok) }
        }
    }

    @Test func attacksAreRefusedWithAClearReasonAndLogged() async throws {
        let app = try await KeelTestApplication.csrfProbe()
        try await app.application().test(.router) { client in
            let (key, token) = try await session(client)
            let (_, otherToken) = try await session(client)
            let attacks: [(HTTPFields, String)] = [
                (HTTPFields.sessionCookie(key), "CSRF token missing"),
                (HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: "forged"], "CSRF token incorrect"),
                (HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: otherToken], "CSRF token incorrect"),
                (HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token, .origin: "https://evil.example"], "does not match"),
                (HTTPFields.sessionCookie(String(repeating: "x", count: 43)) + [HTTPField.Name.xCSRFToken: token], "CSRF token incorrect"),
            ]
            for (headers, reason) in attacks {
                try await client.execute(uri: "/colour", method: .post, headers: headers) { response in
                    #expect(response.status == .forbidden)
                    let body = String(buffer: response.body)
                    #expect(body.contains("csrf.failed"))
                    #expect(body.contains(reason), "\(body)")
                }
            }
        }
        let events = app.logObjects.filter { $0["keel.security.event"] == "csrf_failure" }
        #expect(events.count == 5)
    }

    @Test func tokenAuthenticatedAndExemptRequestsAreNotChecked() async throws {
        let app = try await KeelTestApplication.csrfProbe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/api/things", method: .post, headers: [.authorization: "Token abc"]) { #expect($0.status == .ok) }
            let (key, _) = try await session(client)
            try await client.execute(uri: "/hooks/payment", method: .post, headers: HTTPFields.sessionCookie(key)) { #expect($0.status == .ok) }
            // The api group takes tokens only: a session cookie is no credential there, so there is nothing to forge.
            try await client.execute(uri: "/api/things", method: .post, headers: HTTPFields.sessionCookie(key)) { #expect($0.status == .ok) }
            // The same cookie on a web route without a token is refused.
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key)) { #expect($0.status == .forbidden) }
        }
    }

    @Test func crossSiteFormsWithoutASessionAreRefusedButJSONAndTokenCallsPass() async throws {
        let app = try await KeelTestApplication.csrfProbe()
        try await app.application().test(.router) { client in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            // Login CSRF: a cross-site page posting a login form.
            try await client.execute(uri: "/login", method: .post, headers: form + [CSRFTests.fetchSite: "cross-site"],
                                     body: ByteBuffer(string: "email=a&password=b")) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/login", method: .post, headers: form + [.origin: "https://evil.example"],
                                     body: ByteBuffer(string: "email=a&password=b")) { #expect($0.status == .forbidden) }
            // Same-site forms, JSON calls from other origins (CORS guards those) and token calls go on.
            try await client.execute(uri: "/login", method: .post, headers: form + [.origin: "http://localhost", CSRFTests.fetchSite: "same-origin"],
                                     body: ByteBuffer(string: "email=a&password=b")) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/things", method: .post,
                                     headers: [.contentType: "application/json", .origin: "https://spa.example"], body: ByteBuffer(string: "{}")) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/things", method: .post, headers: [.authorization: "Token x", .origin: "https://spa.example"]) {
                #expect($0.status == .ok)
            }
        }
    }

    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// A browser sends these cross-site without a preflight: they are compared as media types, so case, parameters and
    /// surrounding whitespace do not slip a form past the check (a browser normalises them too).
    @Test func simpleContentTypesAreReadAsMediaTypes() async throws {
        let app = try await KeelTestApplication.csrfProbe()
        try await app.application().test(.router) { client in
            for type in ["Text/Plain ; charset=UTF-8", " application/x-www-form-urlencoded", "MULTIPART/FORM-DATA; boundary=x", "text/plain",
                         "not a media type"] {
                try await client.execute(uri: "/login", method: .post, headers: [.contentType: type, .origin: "https://evil.example"],
                                         body: ByteBuffer(string: "email=a&password=b")) { #expect($0.status == .forbidden, "\(type)") }
            }
            for type in ["application/json", "application/json; charset=utf-8", "text/plainer"] {
                try await client.execute(uri: "/login", method: .post, headers: [.contentType: type, .origin: "https://evil.example"],
                                         body: ByteBuffer(string: "{}")) { #expect($0.status == .ok, "\(type)") }
            }
        }
    }

    @Test func trustedOriginsAreAccepted() async throws {
        let app = try await KeelTestApplication.csrfProbe(values: ["security.csrf.trustedOrigins": "https://app.example.com"])
        try await app.application().test(.router) { client in
            let (key, token) = try await session(client)
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token, .origin: "https://app.example.com"]) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token, .origin: "http://localhost"]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func onHTTPSAMissingOriginNeedsASameSiteReferer() async throws {
        let app = try await KeelTestApplication.csrfProbe(values: ["http.port": "0"])
        try await app.withRunningServer { client in
            let form = try await client.execute(.init("/form", method: .get, authority: "localhost", headers: [.xForwardedProto: "https"]))
            let line = try #require(form.headers[values: .setCookie].first { $0.hasPrefix("keel_session=") })
            let key = String(line.dropFirst("keel_session=".count).prefix { $0 != ";" })
            let token = String(buffer: try #require(form.body))
            let base: HTTPFields = [.xForwardedProto: "https", .cookie: "keel_session=\(key)", HTTPField.Name.xCSRFToken: token]
            let none = try await client.execute(.init("/colour", method: .post, authority: "localhost", headers: base))
            #expect(none.status == .forbidden)
            #expect(String(buffer: try #require(none.body)).contains("no Referer"))
            let foreign = try await client.execute(.init("/colour", method: .post, authority: "localhost", headers: base + [.referer: "https://evil.example/x"]))
            #expect(foreign.status == .forbidden)
            let same = try await client.execute(.init("/colour", method: .post, authority: "localhost", headers: base + [.referer: "https://localhost/form"]))
            #expect(same.status == .ok)
        }
    }
}
