public import Hummingbird
public import KeelCore

/// The request context of every Keel application route.
///
/// It carries what Keel's middleware sets per request: the request id now; later the CSP nonce, the session, the
/// authenticated user and the query recorder. Handlers read it; middleware writes it.
public struct KeelContext: RequestContext, RequestIDRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RequestObservabilityMiddleware`: the accepted or generated `X-Request-ID`.
    public var requestID: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
    }
}
