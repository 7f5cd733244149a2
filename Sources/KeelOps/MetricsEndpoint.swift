public import Hummingbird
import HTTPTypes
import KeelCore
import NIOCore

/// `GET /metrics` in the Prometheus text format.
///
/// On the public port the endpoint is refused (404, as if absent) unless a bearer token is configured, and then
/// answers 401 to any request without exactly that token (`Authorization: Bearer <metrics.token>`). On the separate
/// metrics port (`metrics.port`, bound to `metrics.host`) it needs no token unless one is configured.
public struct MetricsEndpoint: Sendable {
    public let metrics: KeelMetrics
    public let token: String?
    public let requireToken: Bool

    /// - Parameters:
    ///   - token: the bearer token; compared in constant time.
    ///   - requireToken: `true` on the public port: with no token configured, the endpoint is not served.
    public init(metrics: KeelMetrics, token: String?, requireToken: Bool) {
        self.metrics = metrics
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.requireToken = requireToken
    }

    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        router.get("/metrics") { request, _ in
            try self.authorize(request)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
    }

    func authorize(_ request: Request) throws {
        guard let token else {
            if requireToken { throw KeelError(.notFound) }
            return
        }
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"metrics\""]
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw KeelError(.unauthorized, message: "A bearer token is required.", headers: challenge)
        }
        guard constantTimeEquals(Array(header.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw KeelError(.unauthorized, message: "The bearer token is not valid.", headers: challenge)
        }
    }
}
