/// Where in a route group's request pipeline a stage runs, outermost first.
///
/// Slots follow the request: observability sees everything; the error boundary comes right after it (a stage in any
/// later slot that throws still gets a rendered error response with every header); the handler is innermost.
public enum StageSlot: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Request id, access log, metrics, tracing: outside the error boundary.
    case observability
    /// The error boundary itself: `ErrorRenderer`s here turn errors into responses their own way (templated error
    /// pages); what none of them renders is Keel's one error response in the group's `ErrorFormat`.
    case errors
    /// Trusted proxies, allowed hosts, the HTTPS redirect and HSTS.
    case transport
    /// Response headers every response gets (security headers, CSP nonce).
    case headers
    /// CORS headers and preflights.
    case cors
    /// URL, header and body limits.
    case limits
    /// The request deadline (everything below runs under it).
    case deadline
    /// The session: loaded before, saved after.
    case session
    /// `context.identity`.
    case identity
    /// CSRF checks on unsafe methods.
    case csrf
    /// Who may use the group's routes: a signed-in user (KeelWeb's `requiringSignIn`, which sends someone signed out
    /// to sign in); throttling belongs here too, after the identity is known.
    case access
    /// What the signed-in user must hold: the group's required permissions (KeelAuth's `requiring(_:)`), after
    /// `access`, so someone signed out is sent to sign in rather than refused.
    case permissions
    /// Innermost, around the handler: the query recorder; a response cache or an audit flush would go here.
    case handler

    public static func < (lhs: StageSlot, rhs: StageSlot) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .observability: "observability"
        case .errors: "errors"
        case .transport: "transport"
        case .headers: "headers"
        case .cors: "cors"
        case .limits: "limits"
        case .deadline: "deadline"
        case .session: "session"
        case .identity: "identity"
        case .csrf: "csrf"
        case .access: "access"
        case .permissions: "permissions"
        case .handler: "handler"
        }
    }
}
