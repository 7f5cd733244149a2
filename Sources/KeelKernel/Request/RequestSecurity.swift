import Hummingbird
public import KeelCore

/// What Keel's security middleware learns about a request.
public struct RequestSecurity: Sendable {
    /// The Content-Security-Policy nonce of this request: put it on inline `<script nonce="…">` and `<style>` tags.
    public var cspNonce: String = ""
    /// Whether the request reached us over HTTPS (as said by a trusted proxy's X-Forwarded-Proto).
    public var isSecure: Bool = false
    /// The client's address: the peer, or the nearest untrusted address in X-Forwarded-For when the peer is a
    /// trusted proxy. Used for throttling and logs.
    public var clientAddress: String?
    /// The host the client asked for (Host, or X-Forwarded-Host from a trusted proxy), lower-cased, without port.
    public var host: String?
    /// The same with its port when one was given (`example.com:8443`), validated: safe to build URLs from.
    public var authority: String?

    public init() {}
}

/// A request context with the security state Keel's middleware fills in.
public protocol SecurityRequestContext: RequestIDRequestContext {
    var security: RequestSecurity { get set }
    /// The address of the TCP peer, if known.
    var peerAddress: String? { get }
    /// Largest body `request.decode` reads.
    var maxUploadSize: Int { get set }
}
