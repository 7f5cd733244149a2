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
                if now.timeIntervalSince(record.lastSeenAt) > configuration.idleTimeout.inSeconds
                    || now.timeIntervalSince(record.createdAt) > configuration.absoluteTimeout.inSeconds {
                    try await store.delete(key: key)
                    staleCookie = true
                } else {
                    session.restore(record)
                }
            } else {
                staleCookie = true
            }
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // A client error still commits the session (a logout before a 403 must stick), as Django saves below 500.
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            guard status < 500 else { throw error }
            var carrier = Response(status: .ok)
            try await finish(session, staleCookie: staleCookie, response: &carrier)
            let cookies = carrier.headers.filter { $0.name == .setCookie }
            if cookies.isEmpty { throw error }
            throw ErrorWithExtraHeaders(error, HTTPFields(cookies))
        }
        try await finish(session, staleCookie: staleCookie, response: &response)
        return response
    }

    /// Writes what changed. Existing sessions are only ever updated, never re-inserted: a session ended meanwhile
    /// (logout in another tab, password change) stays ended, and its cookie is cleared.
    func finish(_ session: Session, staleCookie: Bool, response: inout Response) async throws {
        let snapshot = session.state.withLock { $0 }
        let now = clock()
        if snapshot.destroy {
            if let loaded = snapshot.loadedKey { try await store.delete(key: loaded) }
            response.setCookie(expiredCookie())
            return
        }
        guard var record = snapshot.record else {
            if staleCookie { response.setCookie(expiredCookie()) }
            return
        }
        if snapshot.isNew {
            if let loaded = snapshot.loadedKey {
                if loaded != record.key { try await store.delete(key: loaded) }
            } else {
                record.createdAt = now
            }
            record.lastSeenAt = now
            try await store.insert(record)
            response.setCookie(cookie(for: record, now: now))
        } else if snapshot.modified {
            record.lastSeenAt = now
            if try await !store.update(record) { response.setCookie(expiredCookie()) }
        } else if now.timeIntervalSince(record.lastSeenAt) >= configuration.touchInterval.inSeconds {
            record.lastSeenAt = now
            if try await !store.touch(key: record.key, lastSeenAt: now) { response.setCookie(expiredCookie()) }
        }
        session.state.withLock { state in
            state.record = record
            state.loadedKey = record.key
            state.modified = false
            state.isNew = false
        }
    }

    func cookie(for record: SessionRecord, now: Date) -> Cookie {
        let remaining = configuration.absoluteTimeout.inSeconds - now.timeIntervalSince(record.createdAt)
        return Cookie(name: configuration.cookieName, value: record.key, maxAge: max(1, Int(remaining)), path: "/",
                      secure: configuration.secure, httpOnly: true, sameSite: configuration.sameSite)
    }

    func expiredCookie() -> Cookie {
        Cookie(name: configuration.cookieName, value: "", maxAge: 0, path: "/", secure: configuration.secure, httpOnly: true,
               sameSite: configuration.sameSite)
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
