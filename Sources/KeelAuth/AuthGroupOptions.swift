public import KeelKernel

/// Whether `context.identity` comes from `Authorization: Token <jwt>`: `api`.
public enum TokenAuthentication: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base == .api }
}

extension RoutePolicy {
    /// `context.identity` from an API token (`TokenAuthentication`).
    public var authenticatesTokens: Bool { self[TokenAuthentication.self] }
}
