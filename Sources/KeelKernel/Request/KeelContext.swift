public import Hummingbird
public import HTTPTypes
public import KeelCore
import KeelSettings

/// The request context of every Keel application route.
///
/// It carries what Keel's middleware sets per request: the request id, the security state (CSP nonce, whether the
/// request came over HTTPS, the client's address, the host), the body-size limit and the session. Handlers read it; middleware writes it.
public struct KeelContext: RequestContext, RequestIDRequestContext, SecurityRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the request pipeline: the accepted or generated `X-Request-ID`.
    public var requestID: String
    /// Set by the security middleware.
    public var security: RequestSecurity
    /// The TCP peer's address.
    public var peerAddress: String? { peer?.text }
    /// The TCP peer as text and bytes, made once (`PeerAddress`).
    package let peer: PeerAddress?
    /// Largest body `request.decode` and `JSONInput` read: `http.maxBodySize`, set by the request pipeline before
    /// any stage runs (a context starts with the setting's default).
    public var maxUploadSize: Int
    /// The request's session, loaded by the request pipeline (created only when written): a view of `state`.
    public var session: Session { Session(of: state) }
    /// Who the request is from: the API token's user, or else the session's; set by the request pipeline.
    public var identity: Identity
    /// When the request pipeline received the request (for durations).
    public internal(set) var receivedAt: ContinuousClock.Instant
    /// What this request's stages and handler share, whichever copy of the context they hold: modules' own values
    /// (`context.state[Key.self]`) and the headers queued for the response.
    public let state: RequestState
    /// Headers stages queued for the response (CORS): added where the response has no field of that name.
    public var responseHeaders: HTTPFields? { state.responseHeaders }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.security = RequestSecurity()
        self.peer = PeerAddress(source.channel.remoteAddress)
        self.maxUploadSize = CoreSettings.maxBodySize.defaultValue
        self.identity = Identity()
        self.receivedAt = .now
        self.state = RequestState()
    }

    /// Queues headers for the response, however it ends (the route's, an early answer or an error page), from any
    /// stage or the handler; a field the response already has is kept.
    public func addResponseHeaders(_ fields: HTTPFields) {
        state.addResponseHeaders(fields)
    }

    /// Values handlers return are encoded as JSON by Keel's streaming encoder (`JSONBodyEncoder`).
    public var responseEncoder: JSONBodyEncoder { JSONBodyEncoder() }

    /// The Content-Security-Policy nonce of this request, for inline `<script nonce="…">` and `<style nonce="…">`.
    public var cspNonce: String { security.cspNonce }
}
