public import KeelCore
import HTTPTypes
import Synchronization

/// Who a request is from, however they proved it: `context.identity`, filled by Keel's request pipeline from the API
/// token (`Authorization: Token <jwt>`) or, without one, from the session cookie.
///
/// It says who, never what they may do: staff and superuser status, permissions and elevated access are the access
/// module's (`context.standing`, `AccessControl`), the token as sent is the token module's (`context.apiToken`).
///
/// Handlers decide with `requireUserID()` (401 without a valid credential) or `optionalUserID()` (anonymous is fine,
/// a bad token is still a 401, never silently anonymous):
/// ```swift
/// router.get("/api/articles/feed") { _, context in
///     let viewer = try context.identity.requireUserID(as: Int.self)
///     …
/// }
/// ```
public struct Identity: Sendable, Equatable {
    /// How the request authenticated.
    public enum Method: String, Sendable, Equatable {
        /// The session cookie of a logged-in browser (`Session.login(userID:)`).
        case session
        /// A signed API token in `Authorization: Token <jwt>`.
        case token
    }

    /// The user's id, when a valid credential was presented.
    public private(set) var userID: String?
    /// How the user authenticated; `nil` when anonymous.
    public private(set) var method: Method?
    /// What pages call the user (given at `Session.login(userID:displayName:)`); `nil` for a token or when none was
    /// given.
    public private(set) var displayName: String?
    /// A credential was presented but did not verify: every route that looks at identity answers 401.
    public private(set) var isInvalid: Bool = false

    /// Anonymous.
    public init() {}

    /// A user authenticated by `method`.
    public init(userID: String, method: Method, displayName: String? = nil) {
        self.userID = userID
        self.method = method
        self.displayName = displayName
    }

    /// A credential that did not verify (a tampered, expired or malformed token).
    public static var invalid: Identity {
        var identity = Identity()
        identity.isInvalid = true
        return identity
    }

    /// Whether a valid credential names a user.
    public var isAuthenticated: Bool { userID != nil }

    /// The user id, or a 401 (`auth.invalid_token`) when no valid credential was presented.
    public func requireUserID() throws -> String {
        guard let userID else { throw KeelError.invalidToken }
        return userID
    }

    /// The user id if a valid credential was presented, `nil` when none was, and a 401 when an invalid one was.
    public func optionalUserID() throws -> String? {
        if isInvalid { throw KeelError.invalidToken }
        return userID
    }

    /// The user id in the application's own type (`Int`, `UUID`…); a 401 when none was presented or it does not
    /// convert (a token signed for another application's ids).
    public func requireUserID<ID: LosslessStringConvertible>(as type: ID.Type) throws -> ID {
        guard let id = ID(try requireUserID()) else { throw KeelError.invalidToken }
        return id
    }

    /// `optionalUserID()` in the application's own type; a 401 for an id that does not convert.
    public func optionalUserID<ID: LosslessStringConvertible>(as type: ID.Type) throws -> ID? {
        guard let text = try optionalUserID() else { return nil }
        guard let id = ID(text) else { throw KeelError.invalidToken }
        return id
    }
}

extension Session {
    /// Session keys Keel keeps its own data under; applications never write them.
    enum IdentityKey {
        static let displayName = "_keel.display_name"
    }

    /// The prefix of the keys modules keep for one login (the access module's staff snapshot and elevated access):
    /// `login(userID:displayName:)` removes every one of them, so nothing a module knew about one login outlives it.
    public static let loginScopedPrefix = "_keel.login."

    /// The identity this session gives its request: the logged-in user, or `nil` when nobody is.
    package var identity: Identity? {
        withState { state in
            guard let record = state.record, let userID = record.userID else { return nil }
            return Identity(userID: userID, method: .session, displayName: record.data[IdentityKey.displayName])
        }
    }
}

extension KeelError {
    /// A 401 for a request that needs a signed-in user and has none (route requirements, sign-in pages on JSON
    /// groups, elevated access).
    public static var signInRequired: KeelError {
        KeelError(.unauthorized, code: .unauthorized, message: "Sign in to do this.")
    }

    /// A 401 for a bad or missing API token. The token module adds the `WWW-Authenticate` challenge with its scheme
    /// (`auth.tokenScheme`) to every 401 of the groups that take tokens.
    public static var invalidToken: KeelError {
        KeelError(.unauthorized, code: .invalidToken, message: "Missing, malformed, expired or invalid token.")
    }
}

extension ErrorCode {
    /// `auth.invalid_token`: A missing, malformed, expired or tampered API token.
    public static let invalidToken: ErrorCode = "auth.invalid_token"
}
