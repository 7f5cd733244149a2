public import Foundation
public import KeelSecurity
import Crypto
import HTTPTypes
package import Hummingbird
package import KeelKernel
import JWTKit
import Synchronization
import KeelCore

/// Signed API tokens (JWT, HS256) for `Authorization: Token <jwt>`, made with the application keyring.
///
/// Each keyring key signs under its own key id (`kid`): the current key signs, the fallbacks still verify, so rotating
/// `signing.key` does not log API clients out; a token whose key was removed no longer verifies. The HMAC key is
/// derived from the keyring key with its own salt, so a token can never be confused with another signed value.
/// Missing, malformed, tampered, expired, `alg: none` or unknown-key tokens are a 401.
/// ```swift
/// let token = try await app.apiTokens.issue(subject: String(user.id))
/// let userID = try await app.apiTokens.verify(token)          // KeelError(.unauthorized) on anything wrong
/// ```
public struct APITokens: Sendable {
    static let salt = "keel.api-tokens"

    struct Payload: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
        }
    }

    let collection = JWTKeyCollection()
    let loaded = LoadFlag()
    /// The HMAC key of each key id, for verifying without a hop to the (actor) key collection: verification runs on
    /// every authenticated request, and serializing them all through one actor tripled the tail latency.
    let verifyingKeys: [String: SymmetricKey]
    let keyring: Keyring
    public let lifetime: Duration
    let clock: @Sendable () -> Date

    /// - Parameter lifetime: how long an issued token stays valid (`auth.tokenLifetime`).
    public init(keyring: Keyring, lifetime: Duration, clock: @escaping @Sendable () -> Date = Date.init) {
        self.keyring = keyring
        self.lifetime = lifetime
        self.clock = clock
        var keys: [String: SymmetricKey] = [:]
        for key in keyring.verifying where keys[key.id] == nil { keys[key.id] = key.derived(salt: Self.salt) }
        self.verifyingKeys = keys
    }

    /// The key collection, filled on first use (adding keys is asynchronous; adding one twice is harmless).
    var keys: JWTKeyCollection {
        get async {
            if loaded.value.withLock({ $0 }) { return collection }
            for key in keyring.verifying {
                await collection.add(hmac: HMACKey(key: key.derived(salt: Self.salt)), digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.id))
            }
            loaded.value.withLock { $0 = true }
            return collection
        }
    }

    /// A token for `subject` (a user id), signed with the current key, expiring after `lifetime`.
    public func issue(subject: String) async throws -> String {
        let now = clock()
        let payload = Payload(sub: .init(value: subject), exp: .init(value: now.addingTimeInterval(lifetime.inSeconds)), iat: .init(value: now))
        return try await keys.sign(payload, kid: JWKIdentifier(string: keyring.current.id))
    }

    /// The subject of a valid token; a 401 (`auth.invalid_token`) for anything else.
    ///
    /// jwt-kit parses the token; the signature is checked here, synchronously: HS256 only (no `none`, no algorithm
    /// confusion), the key named by `kid` (a key of the keyring), a constant-time HMAC comparison, then the expiry.
    public func verify(_ token: String) async throws -> String {
        try await claims(token).subject
    }

    /// The subject and the issue time of a valid token; a 401 for any other.
    func claims(_ token: String) async throws -> (subject: String, issuedAt: Date) {
        do {
            let bytes = Array(token.utf8)
            guard bytes.count <= 8192 else { throw KeelError.invalidToken }
            let parser = DefaultJWTParser()
            let (header, payload, signature) = try parser.parse(bytes, as: Payload.self)
            guard header.alg == "HS256", let kid = header.kid, let key = verifyingKeys[kid],
                  let lastDot = bytes.lastIndex(of: UInt8(ascii: "."))
            else { throw KeelError.invalidToken }
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: bytes[..<lastDot], using: key) else {
                throw KeelError.invalidToken
            }
            try payload.exp.verifyNotExpired()
            // Expiry against our clock as well as the system's (tests, skewed clocks).
            guard payload.exp.value > clock() else { throw KeelError.invalidToken }
            return (payload.sub.value, payload.iat.value)
        } catch {
            throw KeelError.invalidToken
        }
    }

    /// The token in an `Authorization: Token <jwt>` (or `Bearer <jwt>`) header; `nil` when there is none, a 401 when
    /// the header is there but malformed.
    public static func token(fromAuthorization header: String?) throws -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, ["token", "bearer"].contains(parts[0].lowercased()), parts[1].utf8.count <= 8192 else {
            throw KeelError.invalidToken
        }
        return String(parts[1])
    }
}


/// Whether the token keys were added to the collection (a reference, so the token service stays a value).
final class LoadFlag: Sendable {
    let value = Mutex(false)
}


extension APITokens {
    /// The identity the request's `Authorization` gives, with the token as sent: `nil` without the header, `.invalid`
    /// for a bad, expired or revoked token (`app.revokeTokens(of:)`). Routes decide with `requireUserID()` or
    /// `optionalUserID()`, so login and register can ignore a stale token.
    package func identity(for request: Request, revocations: TokenRevocations) async -> (Identity, String?)? {
        guard let header = request.headers[.authorization] else { return nil }
        do {
            guard let token = try APITokens.token(fromAuthorization: header) else { return (Identity(), nil) }
            let (subject, issuedAt) = try await claims(token)
            guard await !revocations.isRevoked(userID: subject, issuedAt: issuedAt) else { return (.invalid, nil) }
            return (Identity(userID: subject, method: .token), token)
        } catch {
            return (.invalid, nil)
        }
    }
}
