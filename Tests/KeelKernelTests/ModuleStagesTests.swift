import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Logging
import Testing

/// A capability written the way a new Keel module is: a shared part, a hook and a wrapper in slots of the `web`
/// group, and routes. Nothing in `KeelApplication` or the pipeline knows it.
struct Stamp: KeelModule {
    var name: String { "stamp" }

    /// Shared between the module's stages and its routes.
    struct Counter: ApplicationPart {
        let prefix: String
    }

    func install(into parts: inout KeelApplication.Parts) throws {
        parts.install(Counter(prefix: "stamp-\(parts.settings.profile)"))
    }

    func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        guard group == .web else { return [] }
        let prefix = app.part(Counter.self).prefix
        return [
            .hook(.access, "stamp.who", WhoHook(prefix: prefix)),
            .wrapper(.handler, "stamp.wrap", WrapStage()),
        ]
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.web.get("/stamped") { _, context in "handler saw " + (context.identity.userID ?? "anonymous") }
        routes.web.get("/stamped/fail") { _, _ -> String in throw KeelError(.conflict, message: "No.") }
        routes.web.get("/stamped/early") { _, _ in "never reached" }
        routes.web.post("/stamped/login") { _, context -> String in
            context.session.login(userID: "42")
            return "in"
        }
        routes.api.get("/api/unstamped") { _, _ in "plain" }
    }
}

/// In the access slot: after identity and CSRF, so it sees who the request is from; answers `/stamped/early`
/// itself; marks every response on the way out, error pages included.
struct WhoHook: RequestHook {
    let prefix: String

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        context.addResponseHeaders([HTTPField.Name("X-Stamp-Identity")!: context.identity.userID ?? "anonymous"])
        if request.uri.path == "/stamped/early" {
            return Response(status: .tooManyRequests, headers: [.retryAfter: "1"])
        }
        return nil
    }

    func leave(_ request: Request, response: inout Response, context: KeelContext) {
        response.headers.append(HTTPField(name: HTTPField.Name("X-Stamp")!, value: prefix))
    }
}

/// In the handler slot (module order within a slot puts it inside the core's query recorder): runs the rest inside itself,
/// and sees the route's response before any hook leaves.
struct WrapStage: RequestWrapper {
    func run(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers.append(HTTPField(name: HTTPField.Name("X-Wrapped")!, value: "yes"))
        return response
    }
}

/// A module that declares its own route-group option and a stage that reads it: routes opt in by the group they
/// are registered in. Nothing in KeelKernel knows it.
struct Audit: KeelModule {
    /// Whether requests of a group are marked as audited; on by default for none of Keel's groups.
    enum Audited: RoutePolicyOption {
        static func defaultValue(for base: RoutePolicy.Base) -> Bool { false }
    }

    /// The module's own per-request value: what the request did, filled by the handler and a wrapper.
    enum Trail: RequestStateKey {
        static var defaultValue: [String] { [] }
    }

    struct MarkHook: RequestHook {
        let group: String
        func leave(_ request: Request, response: inout Response, context: KeelContext) {
            response.headers.append(HTTPField(name: HTTPField.Name("X-Audited")!, value: group))
            // Set inside the wrapper below and by the handler, on their copies of the context: one state for all.
            response.headers.append(HTTPField(name: HTTPField.Name("X-Trail")!, value: context.state[Trail.self].joined(separator: ",")))
        }
    }

    /// Finishes every response; on one path it fails, and its error becomes the response.
    struct CheckFinisher: RequestFinisher {
        func finish(_ request: Request, response: inout Response, context: KeelContext) async throws {
            if request.uri.path == "/audited/unfinished" { throw KeelError(.conflict, message: "Could not finish.") }
            response.headers.append(HTTPField(name: HTTPField.Name("X-Finished")!, value: String(response.status.code)))
        }
    }

    struct NoteWrapper: RequestWrapper {
        func run(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
            context.state.update(Trail.self) { $0.append("wrapped") }
            return try await next(request, context)
        }
    }

    var name: String { "audit" }

    func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        guard group[Audited.self] else { return [] }
        return [
            .hook(.access, "audit.mark", MarkHook(group: group.name)), .wrapper(.handler, "audit.note", NoteWrapper()),
            .finisher(.handler, "audit.check", CheckFinisher()),
        ]
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.group(.web.with(Audited.self, true, named: "audited")).get("/audited") { _, context in
            context.state[Trail.self].append("handled")
            context.addResponseHeaders([HTTPField.Name("X-Queued-By-Handler")!: "yes"])
            return "seen"
        }
        routes.group(.web.with(Audited.self, true, named: "audited")).get("/audited/unfinished") { _, _ in "finished?" }
        routes.group(.web.with(Audited.self, true, named: "audited")).get("/audited/missing") { _, _ -> String in
            throw KeelError(.notFound, message: "No audit.")
        }
        routes.web.get("/unaudited") { _, _ in "unseen" }
    }
}

@Suite struct ModuleStagesTests {
    @Test func aModuleDeclaresAGroupOptionStateAndStagesWithoutEditingTheKernel() async throws {
        let audited = RoutePolicy.web.with(Audit.Audited.self, true, named: "audited")
        #expect(audited.name == "web.audited")
        #expect(audited[Audit.Audited.self] && !RoutePolicy.web[Audit.Audited.self] && !RoutePolicy.api[Audit.Audited.self])
        #expect(audited != .web, "another option set is another stack")
        #expect(audited.base == .web && audited.checksCSRF && audited.loadsSessions, "everything else is the base's")
        let app = try await KeelTestApplication.make(modules: [Audit()], values: ["database.url": "sqlite://:memory:"])
        #expect(app.keel.stages(for: audited).map(\.name).contains("audit.mark"))
        #expect(!app.keel.stages(for: .web).map(\.name).contains("audit.mark"))
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/audited", method: .get) { response in
                #expect(response.headers[HTTPField.Name("X-Audited")!] == "web.audited")
                #expect(response.headers[HTTPField.Name("X-Trail")!] == "wrapped,handled", "state set inside a wrapper reaches a hook outside it")
                #expect(response.headers[HTTPField.Name("X-Queued-By-Handler")!] == "yes", "headers queued anywhere reach the response")
            }
            try await client.execute(uri: "/unaudited", method: .get) { #expect($0.headers[HTTPField.Name("X-Audited")!] == nil) }
            // A finisher sees every response, error responses included, after the error boundary rendered them; one
            // that throws makes its error the response, and the hooks still leave on it.
            try await client.execute(uri: "/audited", method: .get) { #expect($0.headers[HTTPField.Name("X-Finished")!] == "200") }
            try await client.execute(uri: "/audited/missing", method: .get) { #expect($0.headers[HTTPField.Name("X-Finished")!] == "404") }
            try await client.execute(uri: "/audited/unfinished", method: .get) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("Could not finish."))
                #expect(response.headers[HTTPField.Name("X-Audited")!] == "web.audited")
            }
        }
    }

    /// Keel's own options are declared the same way, by the module that reads them, with defaults per base group.
    @Test func theStandardOptionsHaveTheirDefaultsPerBase() {
        #expect(RoutePolicy.api.authenticatesTokens && RoutePolicy.api.allowsCORS && !RoutePolicy.api.loadsSessions && !RoutePolicy.api.checksCSRF)
        #expect(RoutePolicy.web.loadsSessions && RoutePolicy.web.checksCSRF && !RoutePolicy.web.allowsCORS && !RoutePolicy.web.authenticatesTokens)
        #expect(!RoutePolicy.health.checksTransport && RoutePolicy.static.checksTransport && !RoutePolicy.static.runsHandlersUnderBudget)
        let exempt = RoutePolicy.web.exemptingCSRF(because: "signed")
        #expect(!exempt.checksCSRF && exempt.csrfExemptionReason == "signed" && exempt.name == "web.csrf_exempt" && exempt.loadsSessions)
        #expect(!RoutePolicy.api.withoutCORS().allowsCORS && RoutePolicy.api.withoutCORS().name == "api")
    }

    func app(_ values: [String: String] = [:]) async throws -> KeelTestApplication {
        var all = values
        all["database.url"] = "sqlite://:memory:"
        let app = try await KeelTestApplication.make(modules: [Stamp()], values: all)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }

    @Test func eachGroupListsItsStagesInSlotOrder() async throws {
        let keel = try await app(["cors.allowedOrigins": "https://app.example"]).keel
        #expect(keel.stages(for: .api).map(\.name) == [
            "ops.observability", "security.transport", "security.headers", "security.cors", "security.limits", "security.deadline",
            "auth.identity", "data.queries", "cache.responses",
        ])
        #expect(keel.stages(for: .web).map(\.name) == [
            "ops.observability", "security.transport", "security.headers", "security.limits", "security.deadline", "auth.session",
            "auth.session.save", "auth.identity", "access.standing", "security.csrf", "stamp.who", "access.signIn", "access.elevation.log",
            "data.queries", "cache.responses", "stamp.wrap",
        ])
        #expect(keel.stages(for: .web.exemptingCSRF(because: "test")).map(\.name).contains("security.csrf") == false)
        #expect(keel.stages(for: .health).map(\.name) == ["ops.observability", "security.transport", "security.headers", "security.limits"])
        // Without CORS origins there is no CORS stage at all.
        #expect(try await app().keel.stages(for: .api).map(\.name).contains("security.cors") == false)
    }

    @Test func aModuleStageRunsInItsSlotWithoutEditingTheApplication() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            let response = try await client.execute(uri: "/stamped", method: .get)
            #expect(String(buffer: response.body) == "handler saw anonymous")
            #expect(response.headers[HTTPField.Name("X-Stamp")!] == "stamp-test")
            #expect(response.headers[HTTPField.Name("X-Wrapped")!] == "yes")
            #expect(response.headers[HTTPField.Name("X-Stamp-Identity")!] == "anonymous")
            // Keel's own stages still ran around it.
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(response.headers[HTTPField.Name("X-Request-ID")!]?.isEmpty == false)

            // Other groups do not get it.
            let api = try await client.execute(uri: "/api/unstamped", method: .get)
            #expect(api.headers[HTTPField.Name("X-Stamp")!] == nil)
            #expect(api.headers[HTTPField.Name("X-Wrapped")!] == nil)
        }
    }

    @Test func aHookInALaterSlotSeesTheIdentityEarlierStagesSet() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            // No cookie yet, so no ambient credential: the login needs no CSRF token.
            let login = try await client.execute(uri: "/stamped/login", method: .post)
            #expect(login.status == .ok)
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let signedIn = try await client.execute(uri: "/stamped", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: signedIn.body) == "handler saw 42")
            #expect(signedIn.headers[HTTPField.Name("X-Stamp-Identity")!] == "42", "the access slot runs after the identity slot")

            // With the cookie, CSRF (an earlier slot) refuses a tokenless POST before the module's hook runs.
            let refused = try await client.execute(uri: "/stamped/login", method: .post, headers: [.cookie: cookie])
            #expect(refused.status == .forbidden)
            #expect(refused.headers[HTTPField.Name("X-Stamp-Identity")!] == nil)
            #expect(refused.headers[HTTPField.Name("X-Stamp")!] == "stamp-test", "but its leave still marks the error page")
        }
    }

    @Test func errorsAndEarlyAnswersPassBackThroughEveryHook() async throws {
        let app = try await app()
        try await app.application().test(.router) { client in
            let failed = try await client.execute(uri: "/stamped/fail", method: .get)
            #expect(failed.status == .conflict)
            #expect(failed.headers[.contentType]?.hasPrefix("text/html") == true, "web errors are HTML pages")
            #expect(failed.headers[HTTPField.Name("X-Stamp")!] == "stamp-test")
            #expect(failed.headers[HTTPField.Name("X-Wrapped")!] == nil, "the wrapper saw a thrown error, not a response")
            #expect(failed.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")

            let early = try await client.execute(uri: "/stamped/early", method: .get)
            #expect(early.status == .tooManyRequests)
            #expect(String(buffer: early.body).isEmpty)
            #expect(early.headers[HTTPField.Name("X-Stamp")!] == "stamp-test")
            #expect(early.headers[HTTPField.Name("X-Stamp-Identity")!] == "anonymous")
            #expect(early.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("nonce-") == true)
        }
    }

    @Test func composingOnlyTheGivenModulesLeavesOutKeelsStandardOnes() async throws {
        let settings = try await KeelTestApplication.resolveSettings(values: ["database.url": "sqlite://:memory:"])
        let bare = try KeelApplication(name: "test-app", settings: settings, composing: [Probe()], logger: Logger(label: "test"))
        #expect(bare.modules.map(\.name) == ["keel", "probe"])
        #expect(bare.stages(for: .api).map(\.name) == ["data.queries"])
        try await Application(router: try bare.buildRouter()).test(.router) { client in
            let ok = try await client.execute(uri: "/api/probe", method: .get)
            #expect(String(buffer: ok.body) == "probe")
            #expect(ok.headers[HTTPField.Name("X-Content-Type-Options")!] == nil, "no security module, no security headers")
            let missing = try await client.execute(uri: "/api/nothing", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("application/json") == true, "errors still render in Keel's one format")
        }
        let full = try await KeelTestApplication.make(modules: [Probe()], values: ["database.url": "sqlite://:memory:"]).keel
        #expect(full.modules.map(\.name) == ["keel", "ops", "security", "auth", "access", "audit", "cache", "probe"])
    }

    /// `http.maxBodySize` is the kernel's: every request's context carries it, whatever modules the application has.
    @Test func everyContextCarriesTheBodyLimitSetting() async throws {
        let settings = try await KeelTestApplication.resolveSettings(values: ["database.url": "sqlite://:memory:", "http.maxBodySize": "2048"])
        let bare = try KeelApplication(name: "test-app", settings: settings, composing: [Probe()], logger: Logger(label: "test"))
        try await Application(router: try bare.buildRouter()).test(.router) { client in
            let limit = try await client.execute(uri: "/api/probe/limit", method: .get)
            #expect(String(buffer: limit.body) == "2048")
            let big = try await client.execute(uri: "/api/probe/read", method: .post, body: ByteBuffer(repeating: 0x61, count: 4096))
            #expect(big.status == .contentTooLarge, "a body past the setting is refused even without the security module")
            let small = try await client.execute(uri: "/api/probe/read", method: .post, body: ByteBuffer(repeating: 0x61, count: 100))
            #expect(String(buffer: small.body) == "100")
        }
    }
}

struct Probe: KeelModule {
    var name: String { "probe" }
    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.api.get("/api/probe") { _, _ in "probe" }
        routes.api.get("/api/probe/limit") { _, context in String(context.maxUploadSize) }
        routes.api.post("/api/probe/read") { request, context in
            String(try await request.body.collect(upTo: context.maxUploadSize).readableBytes)
        }
    }
}
