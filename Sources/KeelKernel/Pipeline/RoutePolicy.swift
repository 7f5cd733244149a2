import Hummingbird
import HTTPTypes
public import KeelCore

/// What a group of routes asks of the request pipeline, and how its errors look: a policy value. Routes are added
/// under one with `KeelRoutes.group(_:)`, which gives its `RouteRegistrar`; underneath, each distinct policy is one
/// of Hummingbird's `RouterGroup`s with its own stack.
///
/// Every route belongs to exactly one group; the group, not the path, decides what runs. A group is one of Keel's five
/// bases, a name, an error format, and typed options (`RoutePolicyOption`) that the modules declare and their stages
/// read (`KeelModule.stages(for:app:)`): the kernel knows no capability by name. With Keel's standard modules,
/// observability (request id, access line, metrics), error rendering, security headers and request limits run for
/// every group, and the options' defaults give:
///
/// | group | transport (hosts, HTTPS) | CORS | identity from | session | CSRF | deadline, query recorder | errors |
/// |---|---|---|---|---|---|---|---|
/// | `api` | yes | yes | API token | no | no (tokens are not ambient) | yes | JSON |
/// | `web` | yes | no | session | yes | yes | yes | HTML |
/// | `static` | yes | no | nobody | no | no | no | HTML |
/// | `health` | no (probes come by address, over HTTP) | no | nobody | no | no | no | JSON |
/// | unmatched (any path no route has) | yes | no | session | yes | no | no | by `Accept` |
///
/// Groups derive from a base with an option set, stated where the route is registered, never path strings:
/// ```swift
/// routes.group(.web.exemptingCSRF(because: "payment webhooks are signed by the provider")).post("/hooks/payment") { … }
/// routes.group(.web.with(Audited.self, true, named: "audited")).post("/transfers") { … }
/// ```
public struct RoutePolicy: Sendable, Hashable, CustomStringConvertible {
    /// Keel's groups, which every other group derives from; options' defaults depend on it.
    public enum Base: String, Sendable, Hashable, CaseIterable {
        case api, web, `static`, health, unmatched
    }

    /// The group this one derives from.
    public let base: Base
    /// The group's name, in logs and docs (`api`, `web`, `web.csrf_exempt`).
    public private(set) var name: String
    /// How errors are rendered.
    public let errorFormat: ErrorFormat
    /// The options set on this group; the rest have their default for `base`.
    private var options: [ObjectIdentifier: OptionValue] = [:]

    init(_ base: Base, errorFormat: ErrorFormat) {
        self.base = base
        self.name = base.rawValue
        self.errorFormat = errorFormat
    }

    /// JSON APIs authenticated by token: CORS, token identity, JSON errors; no session, so no CSRF.
    public static let api = RoutePolicy(.api, errorFormat: .json)
    /// Pages for people: the session, session identity, CSRF on unsafe methods, HTML errors.
    public static let web = RoutePolicy(.web, errorFormat: .html)
    /// Files: transport checks and headers only.
    public static let `static` = RoutePolicy(.static, errorFormat: .html)
    /// Probes and scrapes (`/health/*`, `/metrics`): nothing but observability and headers, so a load balancer can
    /// probe an instance by its address over plain HTTP.
    public static let health = RoutePolicy(.health, errorFormat: .json)
    /// Requests that matched no route: transport checks, the session (a 404 page shows a signed-in user as signed in;
    /// a request without the cookie costs nothing), and errors in whichever format `Accept` prefers.
    static let unmatched = RoutePolicy(.unmatched, errorFormat: .negotiated)

    /// An option's value in this group: what was set, else its default for the group's base.
    public subscript<Option: RoutePolicyOption>(_ option: Option.Type) -> Option.Value {
        options[ObjectIdentifier(option)]?.value.base as? Option.Value ?? Option.defaultValue(for: base)
    }

    /// The same group with `option` set to `value`, named `<name>.<suffix>` (a different option set is a different
    /// stack, and logs and docs say which).
    public func with<Option: RoutePolicyOption>(_ option: Option.Type, _ value: Option.Value, named suffix: String) -> RoutePolicy {
        precondition(!suffix.isEmpty, "A derived route group needs a name.")
        var group = self
        group.options[ObjectIdentifier(option)] = OptionValue(value: AnyHashable(value))
        group.name = name + "." + suffix
        return group
    }

    /// The same group with `option` set to `value`, keeping its name (for options that do not change what the
    /// group is, such as CORS being off for one endpoint).
    public func with<Option: RoutePolicyOption>(_ option: Option.Type, _ value: Option.Value) -> RoutePolicy {
        var group = self
        group.options[ObjectIdentifier(option)] = OptionValue(value: AnyHashable(value))
        return group
    }

    public var description: String { name }

    /// A stored option value: `Hashable & Sendable` by `RoutePolicyOption.Value`'s constraint, kept as `AnyHashable`.
    private struct OptionValue: Hashable, @unchecked Sendable {
        let value: AnyHashable
    }
}

/// A typed option of a route policy, declared by the module whose stages read it, with a default per base:
///
/// ```swift
/// enum Audited: RoutePolicyOption {
///     static func defaultValue(for base: RoutePolicy.Base) -> Bool { false }
/// }
/// // in the module:
/// func stages(for policy: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
///     policy[Audited.self] ? [.finisher(.handler, "audit.flush", AuditFlush())] : []
/// }
/// ```
public protocol RoutePolicyOption {
    associatedtype Value: Hashable & Sendable
    /// The value in a group that does not set it, which may depend on the base it derives from.
    static func defaultValue(for base: RoutePolicy.Base) -> Value
}

/// Whether the session cookie loads `context.session` (saved after the handler), and `context.identity` comes from its
/// user: `web` and unmatched requests. The kernel's own, because the session is part of the request's context and
/// more than one module reads it (auth loads it, security's CSRF check needs it).
public enum SessionLoading: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base == .web || base == .unmatched }
}

/// Whether handlers are cancelled after `http.requestTimeout` (503) and their statements recorded (N+1,
/// Server-Timing): `api` and `web`. The kernel's own: the core module records, security enforces the deadline.
public enum HandlerBudget: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base == .api || base == .web }
}

extension RoutePolicy {
    /// The session cookie loads `context.session` (`SessionLoading`).
    public var loadsSessions: Bool { self[SessionLoading.self] }
    /// Handlers run under the request deadline and the query recorder (`HandlerBudget`).
    public var runsHandlersUnderBudget: Bool { self[HandlerBudget.self] }
}
