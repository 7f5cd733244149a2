public import Foundation
import KeelCore

/// A stored session: who is logged in, small string data, its CSRF secret and its times.
public struct SessionRecord: Sendable, Equatable, Codable {
    /// The session key as the cookie carries it. Stores keep only its SHA-256 (`keyHash`).
    public var key: String
    public var userID: String?
    public var data: [String: String]
    public var csrfSecret: String
    public var createdAt: Date
    public var lastSeenAt: Date

    public init(key: String, userID: String?, data: [String: String], csrfSecret: String, createdAt: Date, lastSeenAt: Date) {
        self.key = key
        self.userID = userID
        self.data = data
        self.csrfSecret = csrfSecret
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// The session of the current request: read and change it in handlers (`context.session`).
///
/// It is a view of the request's state (`RequestState`), so every copy of the context, every stage and the handler
/// see the same session, and the finisher that saves it sees what rendering an error page took from it.
/// Nothing is stored, and no cookie is set, until something is written: anonymous API traffic costs no session.
/// `login(userID:)` and `cycleKey()` give the session a new key and a new CSRF secret (session fixation defense);
/// `logout()` ends it.
public struct Session: Sendable {
    package struct State: Sendable {
        package var record: SessionRecord?
        /// The key the request's cookie named, if it loaded a session: deleted when the key rotates or on logout.
        package var loadedKey: String?
        /// The record must be inserted under its (new) key: a new session, or a rotated one.
        package var isNew = false
        package var modified = false
        package var destroy = false
        /// The request's cookie named no live session: it is cleared on the response unless a new one is set.
        package var staleCookie = false
        /// The request named a session in its cookie, live or not.
        package var carriedCookie = false
        /// A user logged in during this request (`login(userID:)`).
        package var loggedIn = false
        /// The user a `logout()` in this request signed out.
        package var loggedOutUserID: String?
    }

    let request: RequestState

    /// The session of the request whose state this is (`context.session`).
    package init(of request: RequestState) {
        self.request = request
    }

    /// Reads or changes the session's state, atomically.
    package func withState<Result>(_ body: (inout State) -> Result) -> Result {
        request.withSession(body)
    }

    /// The logged-in user's id, if any.
    public var userID: String? { withState { $0.record?.userID } }

    /// Whether the request named a session in its cookie, live or not: an ambient credential, which is what CSRF
    /// checks guard (set when the session stage loads the session).
    public var requestCarriedCookie: Bool { withState { $0.carriedCookie } }

    /// Whether a user is logged in.
    public var isAuthenticated: Bool { userID != nil }

    /// A stored string value.
    public subscript(key: String) -> String? {
        get { withState { $0.record?.data[key] } }
        nonmutating set { _ = mutate { record in record.data[key] = newValue } }
    }

    /// The CSRF secret of a session that exists, without creating one (what a submitted token is checked against).
    package var existingCSRFSecret: String? { withState { $0.record?.csrfSecret } }

    /// The session's CSRF secret; creates the session if needed (a form is about to be shown).
    public var csrfSecret: String {
        if let secret = withState({ $0.record?.csrfSecret }) { return secret }
        return mutate { _ in }.csrfSecret
    }

    /// Logs a user in: a new session key and a new CSRF secret at once, so a key planted before login is worthless
    /// and forms rendered in this response already use the new secret. Data left by another user is dropped, and so
    /// is what modules kept for the previous login (keys under `loginScopedPrefix`: elevated access never survives a
    /// login). `displayName` is what pages show for the user (`{{keel.user_name}}` in KeelWeb's templates).
    public func login(userID: String, displayName: String? = nil) {
        _ = mutate { record in
            if let previous = record.userID, previous != userID { record.data = [:] }
            record.userID = userID
            record.data = record.data.filter { !$0.key.hasPrefix(Self.loginScopedPrefix) }
            record.data[IdentityKey.displayName] = displayName
        }
        cycleKey()
        withState { $0.loggedIn = true }
    }

    /// What pages show for the logged-in user (given at `login`; set it again when the user renames themselves), or
    /// `nil`. Setting it without a logged-in user does nothing.
    public var displayName: String? {
        get { withState { $0.record?.userID == nil ? nil : $0.record?.data[IdentityKey.displayName] } }
        nonmutating set {
            guard userID != nil, displayName != newValue else { return }
            _ = mutate { record in record.data[IdentityKey.displayName] = newValue }
        }
    }

    /// Gives the session a new key and CSRF secret now, keeping its data (call on any privilege change).
    public func cycleKey() {
        withState { state in
            guard state.record != nil else { return }
            state.record!.key = SessionKeys.newKey()
            state.record!.csrfSecret = SessionKeys.newKey()
            state.isNew = true
            state.modified = true
        }
    }

    /// Ends the session: it is deleted from the store and the cookie is cleared.
    public func logout() {
        withState { state in
            state.loggedOutUserID = state.record?.userID ?? state.loggedOutUserID
            state.destroy = true
            state.loggedIn = false
            state.record = nil
            state.modified = false
            state.isNew = false
        }
    }

    /// Whether a user logged in during this request (`login(userID:displayName:)`): a module that keeps something
    /// per login (the access module's staff snapshot, its sign-in record) acts on it once the response exists.
    public var userLoggedInThisRequest: Bool { withState { $0.loggedIn } }

    /// The session key, if the session exists (for `SessionStore.deleteAll(userID:except:)`).
    public var key: String? { withState { $0.record?.key } }

    /// Applies a change, creating the session first if there is none; returns the changed record.
    ///
    /// A new record's times are placeholders: the session stage that saves it stamps `createdAt` and `lastSeenAt`
    /// with the application's clock, so no time is read here.
    @discardableResult
    func mutate(_ change: (inout SessionRecord) -> Void) -> SessionRecord {
        withState { state in
            var record = state.record ?? SessionRecord(
                key: SessionKeys.newKey(), userID: nil, data: [:], csrfSecret: SessionKeys.newKey(),
                createdAt: Self.unsaved, lastSeenAt: Self.unsaved)
            if state.record == nil { state.isNew = true }
            change(&record)
            state.record = record
            state.modified = true
            state.destroy = false
            return record
        }
    }

    /// The times of a record not saved yet (the Unix epoch), replaced when it is.
    static let unsaved = Date(timeIntervalSince1970: 0)

    package func restore(_ record: SessionRecord) {
        withState { state in
            state.record = record
            state.loadedKey = record.key
        }
    }
}

/// Random session keys and CSRF secrets.
enum SessionKeys {
    /// 256 random bits, base64url (43 characters).
    static func newKey() -> String {
        Base64URL.encode(SecureRandom.bytes(32))
    }

}
