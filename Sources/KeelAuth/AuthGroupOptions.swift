public import KeelKernel

/// Whether `context.identity` comes from `Authorization: Token <jwt>`: `api`.
public enum TokenAuthentication: RouteGroupOption {
    public static func defaultValue(for base: RouteGroup.Base) -> Bool { base == .api }
}

extension RouteGroup {
    /// `context.identity` from an API token (`TokenAuthentication`).
    public var authenticatesTokens: Bool { self[TokenAuthentication.self] }
}
