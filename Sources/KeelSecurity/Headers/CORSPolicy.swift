package import Hummingbird
import HTTPTypes
import KeelCore

/// Cross-origin access for an API, off unless origins are listed (`cors.allowedOrigins`).
///
/// A request whose `Origin` is listed gets `Access-Control-Allow-Origin` with that origin (never `*`, and never
/// credentials: API clients send tokens), `Vary: Origin`, and preflights (`OPTIONS` with
/// `Access-Control-Request-Method`) are answered 204 with the allowed methods and headers. Other origins get no CORS
/// headers, so browsers keep their same-origin rule. Only route groups that allow CORS (`api`) run it.
package struct CORSPolicy: Sendable {
    package enum Decision {
        /// Not a listed origin: no CORS headers.
        case none
        /// A preflight, answered here.
        case preflight(Response)
        /// Headers for the response (error responses included).
        case headers(HTTPFields)
    }

    let origins: Set<String>
    let maxAge: Int

    package init(allowedOrigins: [String], maxAge: Int) {
        self.origins = Set(allowedOrigins.map { $0.lowercased() })
        self.maxAge = maxAge
    }

    /// Whether any origin is listed (CORS is off by default).
    package var isEnabled: Bool { !origins.isEmpty }

    package func decide(_ request: Request) -> Decision {
        guard !origins.isEmpty, let origin = request.headers[.origin],
              origins.contains(origin.lowercased()) || origins.contains("*")
        else { return .none }
        var headers: HTTPFields = [.accessControlAllowOrigin: origin, .vary: "Origin"]
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Requested-With, X-Request-ID"
            headers[.accessControlMaxAge] = String(maxAge)
            return .preflight(Response(status: .noContent, headers: headers))
        }
        headers[.accessControlExposeHeaders] = "X-Request-ID"
        return .headers(headers)
    }
}
