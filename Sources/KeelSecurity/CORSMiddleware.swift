public import Hummingbird
import HTTPTypes
import KeelCore

/// Cross-origin access for an API, off unless origins are listed (`cors.allowedOrigins`).
///
/// A request whose `Origin` is listed gets `Access-Control-Allow-Origin` with that origin (never `*`, and never
/// credentials: API clients send tokens), `Vary: Origin`, and preflights (`OPTIONS` with
/// `Access-Control-Request-Method`) are answered 204 with the allowed methods and headers. Other origins get no CORS
/// headers, so browsers keep their same-origin rule. Only paths under `pathPrefix` are affected.
public struct KeelCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>
    let pathPrefix: String
    let maxAge: Int

    public init(allowedOrigins: [String], pathPrefix: String = "/api/", maxAge: Int = 600) {
        self.origins = Set(allowedOrigins.map { $0.lowercased() })
        self.pathPrefix = pathPrefix
        self.maxAge = maxAge
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !origins.isEmpty, request.uri.path.hasPrefix(pathPrefix), let origin = request.headers[.origin],
              origins.contains(origin.lowercased()) || origins.contains("*")
        else { return try await next(request, context) }
        var headers: HTTPFields = [.accessControlAllowOrigin: origin, .vary: "Origin"]
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Requested-With, X-Request-ID"
            headers[.accessControlMaxAge] = String(maxAge)
            return Response(status: .noContent, headers: headers)
        }
        headers[.accessControlExposeHeaders] = "X-Request-ID"
        return try await ErrorWithExtraHeaders.adding(headers) { try await next(request, context) }
    }
}
