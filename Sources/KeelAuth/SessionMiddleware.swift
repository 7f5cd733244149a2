public import Foundation
public import Hummingbird
import HTTPTypes
import KeelCore
import Synchronization

/// A request context with a session.
public protocol SessionRequestContext: RequestContext {
    /// The request's session (a reference: changes in the handler reach the middleware).
    var session: Session { get }
}

/// Loads the session named by the cookie, enforces its idle and absolute timeouts, and after the handler saves what
/// changed, rotates the key when asked (login, privilege change) and clears the cookie on logout.
///
/// The cookie is `HttpOnly`, `SameSite=Lax` (or `Strict`) and `Secure` by default; its value is 256 random bits.
/// An unchanged session is written back at most once a minute, to slide its idle timeout.
public struct SessionMiddleware<Context: SessionRequestContext>: RouterMiddleware {
    public struct Configuration: Sendable {
        public var cookieName: String
        public var secure: Bool
        public var sameSite: Cookie.SameSite
        public var idleTimeout: Duration
        public var absoluteTimeout: Duration
        public var touchInterval: Duration

        public init(cookieName: String = "keel_session", secure: Bool = true, sameSite: Cookie.SameSite = .lax,
                    idleTimeout: Duration = .seconds(43_200), absoluteTimeout: Duration = .seconds(1_209_600),
                    touchInterval: Duration = .seconds(60)) {
            self.cookieName = cookieName
            self.secure = secure
            self.sameSite = sameSite
            self.idleTimeout = idleTimeout
            self.absoluteTimeout = absoluteTimeout
            self.touchInterval = touchInterval
        }
    }

    let store: any SessionStore
    let configuration: Configuration
    let clock: @Sendable () -> Date

    public init(store: any SessionStore, configuration: Configuration, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let session = context.session
        var staleCookie = false
        if let key = request.cookies[configuration.cookieName]?.value {
            if SessionCookie.isWellFormed(key), let record = try await store.load(key: key) {
                let now = clock()
                if now.timeIntervalSince(record.lastSeenAt) > seconds(configuration.idleTimeout)
                    || now.timeIntervalSince(record.createdAt) > seconds(configuration.absoluteTimeout) {
                    try await store.delete(key: key)
                    staleCookie = true
                } else {
                    session.restore(record)
                }
            } else {
                staleCookie = true
            }
        }
        var response = try await next(request, context)
        try await finish(session, staleCookie: staleCookie, response: &response)
        return response
    }

    func finish(_ session: Session, staleCookie: Bool, response: inout Response) async throws {
        let snapshot = session.state.withLock { $0 }
        let now = clock()
        if snapshot.destroy {
            if let previous = snapshot.previousKey { try await store.delete(key: previous) }
            response.setCookie(expiredCookie())
            return
        }
        guard var record = snapshot.record else {
            if staleCookie { response.setCookie(expiredCookie()) }
            return
        }
        if snapshot.rotate {
            if let previous = snapshot.previousKey {
                try await store.delete(key: previous)
            } else {
                record.createdAt = now
            }
            record.key = SessionKeys.newKey()
            record.csrfSecret = SessionKeys.newKey()
            record.lastSeenAt = now
            try await store.save(record)
            response.setCookie(cookie(for: record, now: now))
        } else if snapshot.modified {
            if snapshot.previousKey == nil { record.createdAt = now }
            record.lastSeenAt = now
            try await store.save(record)
            if snapshot.previousKey == nil { response.setCookie(cookie(for: record, now: now)) }
        } else if now.timeIntervalSince(record.lastSeenAt) >= seconds(configuration.touchInterval) {
            record.lastSeenAt = now
            try await store.save(record)
        }
        session.state.withLock { state in
            state.record = record
            state.previousKey = record.key
            state.modified = false
            state.rotate = false
        }
    }

    func cookie(for record: SessionRecord, now: Date) -> Cookie {
        let remaining = seconds(configuration.absoluteTimeout) - now.timeIntervalSince(record.createdAt)
        return Cookie(name: configuration.cookieName, value: record.key, maxAge: max(1, Int(remaining)), path: "/",
                      secure: configuration.secure, httpOnly: true, sameSite: configuration.sameSite)
    }

    func expiredCookie() -> Cookie {
        Cookie(name: configuration.cookieName, value: "", maxAge: 0, path: "/", secure: configuration.secure, httpOnly: true,
               sameSite: configuration.sameSite)
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

enum SessionCookie {
    /// 43 base64url characters, as `SessionKeys.newKey()` makes them.
    static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == 43 && value.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
        }
    }
}
