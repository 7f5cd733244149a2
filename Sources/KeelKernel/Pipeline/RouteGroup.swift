public import Hummingbird
public import HTTPTypes
public import KeelCore

/// What a group of routes asks of the request pipeline, as flags the modules read when they contribute stages
/// (`KeelModule.stages(for:app:)`), and how its errors look.
///
/// Every route belongs to exactly one group; the group, not the path, decides what runs. With Keel's standard
/// modules, observability (request id, access line, metrics), error rendering, security headers and request limits
/// run for every group, and the flags give:
///
/// | group | transport (hosts, HTTPS) | CORS | identity from | session | CSRF | deadline, query recorder | errors |
/// |---|---|---|---|---|---|---|---|
/// | `api` | yes | yes | API token | no | no (tokens are not ambient) | yes | JSON |
/// | `web` | yes | no | session | yes | yes | yes | HTML |
/// | `static` | yes | no | nobody | no | no | no | HTML |
/// | `health` | no (probes come by address, over HTTP) | no | nobody | no | no | no | JSON |
/// | unmatched (any path no route has) | yes | no | session | yes | no | no | by `Accept` |
///
/// Exemptions are properties of a group, stated where the route is registered, never path strings:
/// ```swift
/// routes.group(.web.exemptingCSRF(because: "payment webhooks are signed by the provider")).post("/hooks/payment") { … }
/// ```
public struct RouteGroup: Sendable, Hashable, CustomStringConvertible {
    /// The group's name, in logs and docs (`api`, `web`, `web.csrf_exempt`).
    public private(set) var name: String
    /// Allowed hosts, the HTTPS redirect and HSTS (trusted-proxy headers are read for every group).
    public private(set) var checksTransport: Bool
    /// CORS headers and preflights for the origins in `cors.allowedOrigins`.
    public private(set) var allowsCORS: Bool
    /// `context.identity` from `Authorization: Token <jwt>`.
    public private(set) var authenticatesTokens: Bool
    /// The session cookie loads `context.session` (saved after the handler); `context.identity` from its user.
    public private(set) var loadsSessions: Bool
    /// Cookie-authenticated unsafe requests need a matching Origin and a masked CSRF token.
    public private(set) var checksCSRF: Bool
    /// Handlers are cancelled after `http.requestTimeout` (503) and their statements recorded (N+1, Server-Timing).
    public private(set) var runsHandlersUnderBudget: Bool
    /// How errors are rendered.
    public private(set) var errorFormat: ErrorFormat
    /// Why CSRF checks are off, when a group was exempted.
    public private(set) var csrfExemptionReason: String?

    init(
        name: String, checksTransport: Bool, allowsCORS: Bool, authenticatesTokens: Bool, loadsSessions: Bool, checksCSRF: Bool,
        runsHandlersUnderBudget: Bool, errorFormat: ErrorFormat
    ) {
        self.name = name
        self.checksTransport = checksTransport
        self.allowsCORS = allowsCORS
        self.authenticatesTokens = authenticatesTokens
        self.loadsSessions = loadsSessions
        self.checksCSRF = checksCSRF
        self.runsHandlersUnderBudget = runsHandlersUnderBudget
        self.errorFormat = errorFormat
    }

    /// JSON APIs authenticated by token: CORS, token identity, JSON errors; no session, so no CSRF.
    public static let api = RouteGroup(
        name: "api", checksTransport: true, allowsCORS: true, authenticatesTokens: true, loadsSessions: false, checksCSRF: false,
        runsHandlersUnderBudget: true, errorFormat: .json)
    /// Pages for people: the session, session identity, CSRF on unsafe methods, HTML errors.
    public static let web = RouteGroup(
        name: "web", checksTransport: true, allowsCORS: false, authenticatesTokens: false, loadsSessions: true, checksCSRF: true,
        runsHandlersUnderBudget: true, errorFormat: .html)
    /// Files: transport checks and headers only.
    public static let `static` = RouteGroup(
        name: "static", checksTransport: true, allowsCORS: false, authenticatesTokens: false, loadsSessions: false, checksCSRF: false,
        runsHandlersUnderBudget: false, errorFormat: .html)
    /// Probes and scrapes (`/health/*`, `/metrics`): nothing but observability and headers, so a load balancer can
    /// probe an instance by its address over plain HTTP.
    public static let health = RouteGroup(
        name: "health", checksTransport: false, allowsCORS: false, authenticatesTokens: false, loadsSessions: false, checksCSRF: false,
        runsHandlersUnderBudget: false, errorFormat: .json)
    /// Requests that matched no route: transport checks, the session (a 404 page shows a signed-in user as signed in;
    /// a request without the cookie costs nothing), and errors in whichever format `Accept` prefers.
    static let unmatched = RouteGroup(
        name: "unmatched", checksTransport: true, allowsCORS: false, authenticatesTokens: false, loadsSessions: true, checksCSRF: false,
        runsHandlersUnderBudget: false, errorFormat: .negotiated)

    /// The same group without CSRF checks, for routes whose unsafe requests prove themselves some other way (a
    /// signed webhook). The reason is required and kept, so every exemption is explicit and reviewable.
    public func exemptingCSRF(because reason: String) -> RouteGroup {
        precondition(!reason.isEmpty, "A CSRF exemption needs a reason.")
        var group = self
        group.checksCSRF = false
        group.csrfExemptionReason = reason
        group.name = name + ".csrf_exempt"
        return group
    }

    /// The same group without CORS (an endpoint only this site's pages call, such as `/csp-report`).
    public func withoutCORS() -> RouteGroup {
        var group = self
        group.allowsCORS = false
        return group
    }

    public var description: String { name }
}

/// Where a module registers its routes: one router group per `RouteGroup`, each with its own stack.
///
/// ```swift
/// func routes(into routes: KeelRoutes, app: KeelApplication) throws {
///     routes.api.get("/api/posts") { _, context in … }
///     routes.web.get("/posts") { _, context in … }
/// }
/// ```
///
/// Once every module has registered, each path answers the methods it has no route for itself, inside its own
/// group's stack (so as JSON on `api`, as the error page on `web`): `405 Method Not Allowed` with `Allow`, `OPTIONS`
/// with `204` and `Allow` (a CORS preflight is answered by the group's CORS stage before that), and `HEAD` wherever
/// there is a `GET` (the `GET` route, without its body).
public final class KeelRoutes {
    let router: Router<KeelContext>
    let makePipeline: (RouteGroup) -> KeelRequestPipeline
    private var groups: [RouteGroup: KeelRouteGroup] = [:]
    let table = RouteTable()

    init(router: Router<KeelContext>, makePipeline: @escaping (RouteGroup) -> KeelRequestPipeline) {
        self.router = router
        self.makePipeline = makePipeline
    }

    /// JSON API routes (token identity, CORS, JSON errors).
    public var api: KeelRouteGroup { group(.api) }
    /// Page routes (session, CSRF, HTML errors).
    public var web: KeelRouteGroup { group(.web) }
    /// Static files.
    public var `static`: KeelRouteGroup { group(.static) }
    /// Health probes and scrapes.
    public var health: KeelRouteGroup { group(.health) }

    /// The routes of any group, such as `.web.exemptingCSRF(because: …)`; the same group twice is the same stack.
    public func group(_ group: RouteGroup) -> KeelRouteGroup {
        if let existing = groups[group] { return existing }
        let made = KeelRouteGroup(group: group, inner: router.group().add(middleware: makePipeline(group)), table: table)
        groups[group] = made
        return made
    }

    /// The methods one path has no route for: `OPTIONS` (204) and the rest (405), each with `Allow`.
    func answerOtherMethods() {
        for entry in table.entries {
            var allowed = entry.methods
            if allowed.contains(.get) { allowed.insert(.head) }
            allowed.insert(.options)
            let allow = RouteTable.order.filter { allowed.contains($0) }.map(\.rawValue).joined(separator: ", ")
            let headers: HTTPFields = [.allow: allow]
            for method in RouteTable.order where !entry.methods.contains(method) {
                switch method {
                case .head where entry.methods.contains(.get):
                    continue  // Hummingbird answers it with the GET route (`RouterOptions.autoGenerateHeadEndpoints`)
                case .options:
                    entry.inner.on(entry.path, method: method, responder: CallbackResponder { _, _ in
                        Response(status: .noContent, headers: headers)
                    })
                default:
                    let error = KeelError(
                        .methodNotAllowed, code: .methodNotAllowed, message: "\(method.rawValue) is not allowed here; allowed: \(allow).",
                        headers: headers)
                    entry.inner.on(entry.path, method: method, responder: CallbackResponder { _, _ -> Response in throw error })
                }
            }
        }
    }
}

/// Every path registered, with its methods and the group whose stack answers it.
final class RouteTable {
    struct Entry {
        let path: RouterPath
        let inner: RouterGroup<KeelContext>
        var methods: Set<HTTPRequest.Method>
    }

    /// The methods a path answers for itself when it has no route for them, in the order `Allow` lists them: RFC 9110's
    /// (but CONNECT, which names a host, not a path), PATCH and QUERY. Other extension methods on a known path stay 404s.
    static let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]
        + ["QUERY"].compactMap { HTTPRequest.Method($0) }

    private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    func record(_ path: RouterPath, method: HTTPRequest.Method, inner: RouterGroup<KeelContext>) {
        let key = path.description
        if let position = index[key] {
            entries[position].methods.insert(method)
        } else {
            index[key] = entries.count
            entries.append(Entry(path: path, inner: inner, methods: [method]))
        }
    }
}

/// The routes of one group: Hummingbird's router methods (`get`, `post`, `group`, `add(middleware:)`, …), every
/// route running inside the group's stack.
public struct KeelRouteGroup: RouterMethods {
    public typealias Context = KeelContext
    /// What this group's stack does.
    public let group: RouteGroup
    let inner: RouterGroup<KeelContext>
    let table: RouteTable

    @discardableResult
    public func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> KeelRouteGroup
    where Responder.Context == KeelContext {
        inner.on(path, method: method, responder: responder)
        table.record(path, method: method, inner: inner)
        return self
    }

    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, KeelContext>) -> KeelRouteGroup {
        inner.add(middleware: middleware)
        return self
    }
}
