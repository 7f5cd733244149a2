public import KeelKernel

/// Whether a group enforces allowed hosts, the HTTPS redirect and HSTS (trusted-proxy headers are read for every
/// group): all but `health`, whose probes come by address over plain HTTP.
public enum TransportChecks: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base != .health }
}

/// Whether a group answers CORS preflights and adds CORS headers for the origins in `cors.allowedOrigins`: `api`.
public enum CrossOriginRequests: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { base == .api }
}

/// Whether cookie-authenticated unsafe requests need a matching Origin and a masked CSRF token: required on `web`;
/// an exemption carries its reason, so every one is explicit and reviewable.
public enum CSRFProtection: RoutePolicyOption {
    public enum Value: Hashable, Sendable {
        case required
        case off
        case exempt(because: String)
    }

    public static func defaultValue(for base: RoutePolicy.Base) -> Value { base == .web ? .required : .off }
}

extension RoutePolicy {
    /// Allowed hosts, the HTTPS redirect and HSTS (`TransportChecks`).
    public var checksTransport: Bool { self[TransportChecks.self] }
    /// CORS headers and preflights (`CrossOriginRequests`).
    public var allowsCORS: Bool { self[CrossOriginRequests.self] }
    /// Unsafe cookie-authenticated requests need an Origin and a CSRF token (`CSRFProtection`).
    public var checksCSRF: Bool { self[CSRFProtection.self] == .required }
    /// Why CSRF checks are off, when the group was exempted.
    public var csrfExemptionReason: String? {
        if case .exempt(let reason) = self[CSRFProtection.self] { reason } else { nil }
    }

    /// The same group without CSRF checks, for routes whose unsafe requests prove themselves some other way (a
    /// signed webhook), named `<group>.csrf_exempt`. The reason is required and kept.
    public func exemptingCSRF(because reason: String) -> RoutePolicy {
        precondition(!reason.isEmpty, "A CSRF exemption needs a reason.")
        return with(CSRFProtection.self, .exempt(because: reason), named: "csrf_exempt")
    }

    /// The same group without CORS (an endpoint only this site's pages call, such as `/csp-report`).
    public func withoutCORS() -> RoutePolicy {
        with(CrossOriginRequests.self, false)
    }
}
