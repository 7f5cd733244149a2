package import KeelKernel
package import Foundation
public import Hummingbird
import HTTPTypes
import KeelCore
import Synchronization

/// The session cookie and timeouts (`security.session.*` settings).
public struct SessionConfiguration: Sendable {
    public var cookieName: String
    public var secure: Bool
    public var sameSite: Cookie.SameSite
    public var idleTimeout: Duration
    public var absoluteTimeout: Duration

    public init(cookieName: String = "keel_session", secure: Bool = true, sameSite: Cookie.SameSite = .lax,
                idleTimeout: Duration = .seconds(43_200), absoluteTimeout: Duration = .seconds(1_209_600)) {
        self.cookieName = cookieName
        self.secure = secure
        self.sameSite = sameSite
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
    }

    /// How long an unchanged session goes without being written back to slide its idle timeout: a minute, or half
    /// the idle timeout when that is shorter. The stored time is then never more than this behind the user's last
    /// request, so a user who comes back within `idleTimeout - touchInterval` (at least half the timeout) always stays
    /// signed in, and one who stays away longer than the timeout is always signed out.
    public var touchInterval: Duration {
        min(.seconds(60), idleTimeout / 2)
    }
}

/// Loads the session named by the cookie, enforces its idle and absolute timeouts, and after the handler saves what
/// changed, rotates the key when asked (login, privilege change) and clears the cookie on logout.
///
/// The cookie is `HttpOnly`, `SameSite=Lax` (or `Strict`) and `Secure` by default; its value is 256 random bits.
/// An unchanged session is written back at most once per `touchInterval` (a minute, or half the idle timeout when
/// that is shorter), to slide its idle timeout.
package struct SessionLifecycle: Sendable {
    let store: any SessionStore
    let configuration: SessionConfiguration
    let clock: @Sendable () -> Date

    package init(store: any SessionStore, configuration: SessionConfiguration, clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
    }

    /// Restores the session the cookie names, if it is live; a cookie that names no live session is remembered, to
    /// be cleared on the response. No cookie, no work.
    package func load(_ request: Request, into session: Session) async throws {
        guard let key = request.cookies[configuration.cookieName]?.value else { return }
        session.withState { $0.carriedCookie = true }
        guard SessionCookie.isWellFormed(key), let record = try await store.load(key: key) else {
            session.withState { $0.staleCookie = true }
            return
        }
        let now = clock()
        if now.timeIntervalSince(record.lastSeenAt) > configuration.idleTimeout.inSeconds
            || now.timeIntervalSince(record.createdAt) > configuration.absoluteTimeout.inSeconds {
            try await store.delete(key: key)
            session.withState { $0.staleCookie = true }
            return
        }
        session.restore(record)
    }

    /// Writes what changed. Existing sessions are only ever updated, never re-inserted: a session ended meanwhile
    /// (logout in another tab, password change) stays ended, and its cookie is cleared.
    package func finish(_ session: Session, response: inout Response) async throws {
        let snapshot = session.withState { $0 }
        let staleCookie = snapshot.staleCookie
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
        session.withState { state in
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
