public import Hummingbird
import HTTPTypes
import KeelCore

/// Who an API request is from, as its `Authorization: Token <jwt>` says.
public struct APIIdentity: Sendable, Equatable {
    /// The token's subject (a user id), when a valid token was sent.
    public var userID: String?
    /// The token as sent (echoed back by RealWorld's `GET /api/user`).
    public var token: String?
    /// Set when a token was sent but did not verify: every route that looks at identity answers 401.
    public var invalid: Bool = false

    public init() {}

    /// The user id, or a 401 when no valid token was sent.
    public func requireUserID() throws -> String {
        guard !invalid, let userID else { throw KeelError.invalidToken }
        return userID
    }

    /// The user id if a valid token was sent, `nil` when none was, and a 401 when an invalid one was.
    public func optionalUserID() throws -> String? {
        if invalid { throw KeelError.invalidToken }
        return userID
    }
}

/// A request context that carries the API identity.
public protocol APIIdentityRequestContext: RequestContext {
    var apiIdentity: APIIdentity { get set }
}

extension APITokens {
    /// The identity the request's `Authorization` header claims: `nil` without the header, `invalid` when it does not
    /// verify. Keel's request pipeline calls it for every request; routes decide with `requireUserID()` or
    /// `optionalUserID()`, so login and register can ignore a stale token.
    package func identity(for request: Request) async -> APIIdentity? {
        guard let header = request.headers[.authorization] else { return nil }
        var identity = APIIdentity()
        do {
            if let token = try APITokens.token(fromAuthorization: header) {
                identity.userID = try await verify(token)
                identity.token = token
            }
        } catch {
            identity.invalid = true
        }
        return identity
    }
}
