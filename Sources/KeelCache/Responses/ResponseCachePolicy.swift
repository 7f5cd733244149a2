public import KeelKernel

/// How a route group's `GET` and `HEAD` answers are cached (`RoutePolicy.cached(for:sharing:)`).
public struct ResponseCachePolicy: Hashable, Sendable {
    /// Who shares a stored answer.
    public enum Sharing: String, Hashable, Sendable {
        /// Requests without credentials (no session cookie, no `Authorization`) share one copy; a request with any
        /// goes straight to the handler and its answer is `Cache-Control: private`. What Django's `cache_page` with
        /// `Vary: Cookie` gives, without one copy per session.
        case anonymous
        /// Every signed-in person has their own copy (keyed by user id), and requests without credentials share one.
        case perUser
        /// One copy for every request whoever sent it: refused at start-up for a group that reads sessions or API
        /// tokens, whose answers may depend on the person.
        case everyone
    }

    /// How long a stored answer is served.
    public var ttl: Duration
    public var sharing: Sharing
    /// `s-maxage` for a shared proxy in front (nginx's `proxy_cache`) on anonymous answers; `nil`: the proxy may not
    /// keep them (`max-age=0` only).
    public var sharedMaxAge: Duration?
    /// The statuses stored: 200, and 301 or 404 when the group says so.
    public var statuses: Set<Int>
    /// Tags every stored answer of the group carries (handlers add their own with `context.tagCachedResponse`).
    public var tags: Set<String>

    public init(ttl: Duration, sharing: Sharing = .anonymous, sharedMaxAge: Duration? = nil, statuses: Set<Int> = [200], tags: Set<String> = []) {
        precondition(ttl > .zero, "a cached route group needs a positive ttl")
        precondition(statuses.isSubset(of: [200, 203, 204, 300, 301, 404, 410]),
                     "only answers that mean the same to everyone may be cached (200, 203, 204, 300, 301, 404, 410)")
        self.ttl = ttl
        self.sharing = sharing
        self.sharedMaxAge = sharedMaxAge
        self.statuses = statuses
        self.tags = tags
    }

    /// Why this policy cannot be used on `group`, or `nil`: a group that reads sessions or API tokens may answer each
    /// person differently, so it must share by `.anonymous` or `.perUser`.
    public func problem(on group: RoutePolicy, readsCredentials: Bool) -> String? {
        guard sharing == .everyone, readsCredentials else { return nil }
        return "Route group \(group.name) caches its answers for everyone, but it reads the session or an API token, so an answer "
            + "may be one person's: cache it with sharing: .anonymous (signed-in requests skip the cache) or .perUser."
    }
}

/// The response cache of a route group (`ResponseCachePolicy`); `nil`, the default, caches nothing.
public enum ResponseCaching: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> ResponseCachePolicy? { nil }
}

/// Whether `GET` answers with a body get an `ETag` and conditional requests a `304` (`api` and `web`).
public enum ConditionalRequests: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base == .api || base == .web }
}

extension RoutePolicy {
    /// The same group with its `GET`/`HEAD` answers cached (a group named `<name>.cached`):
    /// ```swift
    /// routes.group(.web.cached(for: .seconds(30), sharedMaxAge: .seconds(30))).get("/") { … }
    /// ```
    public func cached(for ttl: Duration, sharing: ResponseCachePolicy.Sharing = .anonymous, sharedMaxAge: Duration? = nil,
                       statuses: Set<Int> = [200], tags: Set<String> = []) -> RoutePolicy {
        with(ResponseCaching.self, ResponseCachePolicy(ttl: ttl, sharing: sharing, sharedMaxAge: sharedMaxAge, statuses: statuses, tags: tags),
             named: "cached")
    }

    /// The group's response cache, if any.
    public var responseCache: ResponseCachePolicy? { self[ResponseCaching.self] }
}

/// Tags a handler gives the answer it is making, for `app.cache.delete(tagged:)` to purge it when what it shows
/// changes.
enum ResponseCacheTags: RequestStateKey {
    static var defaultValue: Set<String> { [] }
}

extension KeelContext {
    /// Tags the answer being made (when its group caches answers): a write that changes what it shows deletes the
    /// tag (`app.cache.delete(tagged: "article:\(slug)")`) and every answer carrying it is gone.
    public func tagCachedResponse(_ tags: String...) {
        state.update(ResponseCacheTags.self) { $0.formUnion(tags) }
    }
}
