public import KeelKernel

/// The permissions every route of a group needs (`RoutePolicy.requiring(_:)`): none by default.
public enum RequiredPermissions: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Set<String> { [] }
}

extension RoutePolicy {
    /// The same group, whose routes need the user to hold every one of `codenames` (and those it needed already):
    /// someone signed out gets a 401 (on a group that also requires sign-in, KeelWeb sends them to sign in first),
    /// someone without them a 403 naming what is missing, as the group's error page or JSON error.
    ///
    /// ```swift
    /// let moderators = routes.group(.web.requiringSignIn().requiring("articles.delete_article"))
    /// moderators.post("/articles/{slug}/remove") { … }
    /// ```
    ///
    /// Each codename must be declared by a module (`KeelModule.permissions`): the application refuses to start when
    /// a group requires one that none declares.
    public func requiring(_ codenames: String...) -> RoutePolicy {
        let all = self[RequiredPermissions.self].union(codenames)
        return with(RequiredPermissions.self, all, named: "requires(\(all.sorted().joined(separator: ",")))")
    }

    /// The permissions the group's routes need.
    public var requiredPermissions: Set<String> { self[RequiredPermissions.self] }
}
