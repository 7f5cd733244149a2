import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// One route of each group, each telling who the request is from.
struct GroupsProbe: KeelModule {
    var name: String { "groups" }

    static func describe(_ identity: Identity) -> String {
        guard identity.isAuthenticated, let id = identity.userID, let method = identity.method else { return identity.isInvalid ? "invalid" : "anonymous" }
        return "\(id) by \(method.rawValue)\(identity.displayName.map { " (\($0))" } ?? "")"
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.api.get("/api/who") { _, context in Self.describe(context.identity) + " session=\(context.session.userID ?? "-")" }
        routes.api.get("/api/me") { _, context in try context.identity.requireUserID() }
        routes.api.get("/api/number") { _, context in String(try context.identity.requireUserID(as: Int.self)) }
        routes.web.get("/who") { _, context in Self.describe(context.identity) }
        routes.web.post("/sign-in") { _, context -> String in
            context.session.login(userID: "7", displayName: "Seven")
            return "in"
        }
        routes.web.get("/kept") { _, context -> String in
            "\(context.session[Session.loginScopedPrefix + "probe"] ?? "-") \(context.session["colour"] ?? "-")"
        }
        routes.web.post("/keep") { _, context -> String in
            context.session[Session.loginScopedPrefix + "probe"] = "for this login"
            context.session["colour"] = "blue"
            return "ok"
        }
        routes.web.get("/form") { _, context in context.session.csrfToken() }
        routes.web.get("/fail") { _, _ -> String in throw KeelError(.notFound, message: "No page <here> & \"there\".") }
        routes.api.get("/api/fail") { _, _ -> String in throw KeelError(.notFound, message: "No such thing.") }
        routes.health.get("/health/custom") { _, _ in "probe" }
        routes.static.get("/static/{file}") { _, context -> String in
            guard context.parameters.get("file") == "app.css" else { throw KeelError(.notFound, message: "No such file.") }
            return "session=\(context.session.userID ?? "-") identity=\(Self.describe(context.identity))"
        }
        let exempt = routes.group(.web.exemptingCSRF(because: "signed by the sender"))
        exempt.post("/hooks/signed") { _, context in "hook " + Self.describe(context.identity) }
        #expect(exempt.group.csrfExemptionReason == "signed by the sender")
        #expect(exempt.group.name == "web.csrf_exempt")
    }
}

@Suite struct RoutePolicyTests {
    func app(_ values: [String: String] = [:]) async throws -> KeelTestApplication {
        var all = values
        all["database.url"] = "sqlite://:memory:"
        let app = try await KeelTestApplication.make(modules: [GroupsProbe()], values: all)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }

    @Test func webRoutesKnowTheSessionUserAndAPIRoutesTheTokenUserOnly() async throws {
        let app = try await app()
        let token = try await app.keel.apiTokens.issue(subject: "42")
        try await app.application().test(.router) { client in
            let key = try await client.execute(uri: "/sign-in", method: .post) { response in
                #expect(response.status == .ok)
                return try #require(response.sessionKey)
            }
            try await client.execute(uri: "/who", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect(String(buffer: $0.body) == "7 by session (Seven)") }
            // The api group takes tokens only: the cookie neither authenticates nor loads the session there.
            try await client.execute(uri: "/api/who", method: .get, headers: HTTPFields.sessionCookie(key)) {
                #expect(String(buffer: $0.body) == "anonymous session=-")
            }
            try await client.execute(uri: "/api/who", method: .get, headers: HTTPFields.sessionCookie(key) + [.authorization: "Token \(token)"]) {
                #expect(String(buffer: $0.body) == "42 by token session=-")
            }
            // And the web group does not take tokens.
            try await client.execute(uri: "/who", method: .get, headers: [.authorization: "Token \(token)"]) {
                #expect(String(buffer: $0.body) == "anonymous")
            }
            try await client.execute(uri: "/api/me", method: .get, headers: [.authorization: "Token \(token)"]) { #expect(String(buffer: $0.body) == "42") }
            try await client.execute(uri: "/api/number", method: .get, headers: [.authorization: "Token \(token)"]) { #expect(String(buffer: $0.body) == "42") }
            // A bad token is a 401, never anonymous and never the session's user.
            try await client.execute(uri: "/api/who", method: .get, headers: [.authorization: "Token forged"]) { #expect(String(buffer: $0.body) == "invalid session=-") }
            for uri in ["/api/me", "/api/number"] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Token forged"]) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .unauthorized) }
            }
        }
    }

    @Test func anIDThatIsNotTheApplicationsTypeIsA401() async throws {
        let app = try await app()
        let token = try await app.keel.apiTokens.issue(subject: "not-a-number")
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/api/number", method: .get, headers: [.authorization: "Token \(token)"]) { #expect($0.status == .unauthorized) }
        }
    }

    /// What a module keeps for one login (keys under `Session.loginScopedPrefix`: the access module's staff snapshot
    /// and elevated access) goes at the next login, with a new key; the rest of the session's data stays.
    @Test func aLoginDropsWhatModulesKeptForThePreviousLogin() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            let signedIn = try await client.execute(uri: "/sign-in", method: .post) { try #require($0.sessionKey) }
            let token = try await client.execute(uri: "/form", method: .get, headers: HTTPFields.sessionCookie(signedIn)) { String(buffer: $0.body) }
            try await client.execute(uri: "/keep", method: .post, headers: HTTPFields.sessionCookie(signedIn) + [HTTPField.Name.xCSRFToken: token]) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/kept", method: .get, headers: HTTPFields.sessionCookie(signedIn)) {
                #expect(String(buffer: $0.body) == "for this login blue")
            }
            let again = try await client.execute(uri: "/sign-in", method: .post, headers: HTTPFields.sessionCookie(signedIn) + [HTTPField.Name.xCSRFToken: token]) {
                try #require($0.sessionKey, "a login rotates the key")
            }
            #expect(again != signedIn)
            try await client.execute(uri: "/kept", method: .get, headers: HTTPFields.sessionCookie(again)) {
                #expect(String(buffer: $0.body) == "- blue")
            }
        }
    }

    @Test func errorsAreJSONForTheAPIAndAnEscapedPageForTheWeb() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/api/fail", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(String(buffer: response.body).contains(#""code":"http.not_found""#))
            }
            try await client.execute(uri: "/fail", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = String(buffer: response.body)
                #expect(page.contains("<h1>Not Found</h1>"))
                #expect(page.contains("No page &lt;here&gt; &amp; &quot;there&quot;."))
                #expect(!page.contains("<here>"))
                #expect(page.contains("<code>http.not_found</code>"))
                #expect(page.contains("Request id: <code>\(response.headers[.init("X-Request-ID")!] ?? "?")</code>"))
                #expect(!page.contains("<script") && !page.contains("style="))
                // The page carries every security header.
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
            // A path no route matches: a page for browsers, JSON for everyone else.
            try await client.execute(uri: "/nowhere", method: .get, headers: [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
            for accept in [nil, "application/json", "application/json, text/html"] {
                try await client.execute(uri: "/nowhere", method: .get, headers: accept.map { [.accept: $0] } ?? [:]) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8", "\(accept ?? "-")")
                }
            }
        }
    }

    @Test func staticRoutesLoadNoSessionAndAnswerErrorsAsPages() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            let key = try await client.execute(uri: "/sign-in", method: .post) { try #require($0.sessionKey) }
            try await client.execute(uri: "/static/app.css", method: .get, headers: HTTPFields.sessionCookie(key)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "session=- identity=anonymous")
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/static/missing.css", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            }
        }
    }

    @Test func healthRoutesSkipHostChecksAndTheRedirectOthersDoNot() async throws {
        let app = try await app(["security.sslRedirect": "true", "http.port": "0"])
        try await app.withRunningServer { client in
            for uri in ["/health/live", "/health/custom"] {
                let response = try await client.execute(.init(uri, method: .get, authority: "10.0.0.7:8080"))
                #expect(response.status == .ok, "\(uri)")
            }
            for uri in ["/api/who", "/who", "/nowhere"] {
                let response = try await client.execute(.init(uri, method: .get, authority: "10.0.0.7:8080"))
                #expect(response.status == .badRequest, "\(uri)")
            }
            let redirected = try await client.execute(.init("/api/who", method: .get, authority: "localhost"))
            #expect(redirected.status == .movedPermanently)
        }
    }

    @Test func corsBelongsToTheAPIGroupAndPreflightsReachIt() async throws {
        let app = try await app(["cors.allowedOrigins": "https://spa.example"])
        try await app.application().test(.router) { client in
            // Only GET is registered for /api/who, yet the preflight reaches the api stack and is answered.
            try await client.execute(uri: "/api/who", method: .options, headers: [.origin: "https://spa.example", .accessControlRequestMethod: "GET"]) {
                #expect($0.status == .noContent)
                #expect($0.headers[.accessControlAllowOrigin] == "https://spa.example")
            }
            try await client.execute(uri: "/api/who", method: .get, headers: [.origin: "https://spa.example"]) {
                #expect($0.headers[.accessControlAllowOrigin] == "https://spa.example")
            }
            // A plain OPTIONS, or one from an unlisted origin, is told the methods and nothing of CORS.
            try await client.execute(uri: "/api/who", method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "GET"]) {
                #expect($0.status == .noContent)
                #expect($0.headers[.allow] == "GET, HEAD, OPTIONS")
                #expect($0.headers[.accessControlAllowOrigin] == nil)
            }
            // Pages are never shared cross-origin.
            try await client.execute(uri: "/who", method: .get, headers: [.origin: "https://spa.example"]) {
                #expect($0.status == .ok)
                #expect($0.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    /// A path answers the methods it has no route for inside its own group: 405 with `Allow` in the group's error
    /// format, OPTIONS with 204 and `Allow`, HEAD through its GET route. A path no route has stays a 404.
    @Test func otherMethodsOnAKnownPathAre405WithAllowInTheGroupsFormat() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            for method in [HTTPRequest.Method.post, .put, .patch, .delete, .trace] {
                try await client.execute(uri: "/api/who", method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method)")
                    #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                    #expect(String(buffer: response.body).contains(#""code":"http.method_not_allowed""#))
                }
            }
            try await client.execute(uri: "/who", method: .put, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true, "a page's 405 is a page")
            }
            try await client.execute(uri: "/api/who", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/api/nowhere", method: .delete) { #expect($0.status == .notFound) }
        }
    }

    @Test func anExemptGroupSkipsCSRFButKeepsTheSession() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            let key = try await client.execute(uri: "/sign-in", method: .post) { try #require($0.sessionKey) }
            try await client.execute(uri: "/hooks/signed", method: .post, headers: HTTPFields.sessionCookie(key)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "hook 7 by session (Seven)")
            }
            // The same cookie on a checked web route without a token is refused.
            try await client.execute(uri: "/sign-in", method: .post, headers: HTTPFields.sessionCookie(key)) { #expect($0.status == .forbidden) }
        }
    }
}
