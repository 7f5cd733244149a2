import Hummingbird
import HTTPTypes
import KeelCore

/// Where a module registers its routes: one router group per `RoutePolicy`, each with its own stack.
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
    let makePipeline: (RoutePolicy) -> KeelRequestPipeline
    private var groups: [RoutePolicy: RouteRegistrar] = [:]
    let table = RouteTable()

    init(router: Router<KeelContext>, makePipeline: @escaping (RoutePolicy) -> KeelRequestPipeline) {
        self.router = router
        self.makePipeline = makePipeline
    }

    /// JSON API routes (token identity, CORS, JSON errors).
    public var api: RouteRegistrar { group(.api) }
    /// Page routes (session, CSRF, HTML errors).
    public var web: RouteRegistrar { group(.web) }
    /// Static files.
    public var `static`: RouteRegistrar { group(.static) }
    /// Health probes and scrapes.
    public var health: RouteRegistrar { group(.health) }

    /// The routes of any group, such as `.web.exemptingCSRF(because: …)`; the same group twice is the same stack.
    public func group(_ group: RoutePolicy) -> RouteRegistrar {
        if let existing = groups[group] { return existing }
        let made = RouteRegistrar(group: group, inner: router.group().add(middleware: makePipeline(group)), table: table)
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
