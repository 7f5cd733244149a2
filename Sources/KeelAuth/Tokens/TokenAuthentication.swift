public import KeelKernel

/// Whether `context.identity` comes from `Authorization: Token <jwt>`: `api`.
public enum TokenAuthentication: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base == .api }
}

extension RoutePolicy {
    /// `context.identity` from an API token (`TokenAuthentication`).
    public var authenticatesTokens: Bool { self[TokenAuthentication.self] }
}

/// The API token the request authenticated with, as sent (`context.apiToken`).
enum PresentedToken: RequestStateKey {
    static var defaultValue: String? { nil }
}

extension KeelContext {
    /// The API token this request authenticated with, as sent, when its identity came from one (RealWorld's
    /// `GET /api/user` echoes it); `nil` otherwise.
    public var apiToken: String? { state[PresentedToken.self] }
}
