public import KeelKernel
public import KeelCore
public import HTTPTypes

/// A decision about one object, as a small typed value: "its author, or a holder of `articles.delete_article`".
/// Route groups decide who may reach a route; a policy decides what a user may do to the object the route found.
///
/// ```swift
/// struct Article { let id: Int; let authorID: Int }
/// static let mayDelete = AccessPolicy<Article>.owner { String($0.authorID) }.or(.permission("articles.delete_article"))
///
/// try await app.access.authorize(context.identity, mayDelete, on: article)   // 401 for nobody, 403 otherwise
/// ```
public struct AccessPolicy<Subject: Sendable>: Sendable {
    let decide: @Sendable (_ userID: String, _ subject: Subject, _ access: AccessControl) async throws -> Bool

    public init(_ decide: @escaping @Sendable (_ userID: String, _ subject: Subject, _ access: AccessControl) async throws -> Bool) {
        self.decide = decide
    }

    /// The user the subject belongs to (its author, its owner).
    public static func owner(_ ownerID: @escaping @Sendable (Subject) -> String?) -> AccessPolicy {
        AccessPolicy { userID, subject, _ in ownerID(subject) == userID }
    }

    /// Anyone who holds the permission (directly, through a group, or as superuser).
    public static func permission(_ codename: String) -> AccessPolicy {
        AccessPolicy { userID, _, access in try await access.has(userID, codename) }
    }

    /// Either this or the other; the other is asked only when this says no.
    public func or(_ other: AccessPolicy) -> AccessPolicy {
        AccessPolicy { userID, subject, access in
            if try await decide(userID, subject, access) { return true }
            return try await other.decide(userID, subject, access)
        }
    }

    /// Both this and the other.
    public func and(_ other: AccessPolicy) -> AccessPolicy {
        AccessPolicy { userID, subject, access in
            guard try await decide(userID, subject, access) else { return false }
            return try await other.decide(userID, subject, access)
        }
    }
}

extension AccessControl {
    /// Whether the identity's user may do what the policy says to the subject (`false` for nobody signed in).
    public func allows<Subject>(_ identity: Identity, _ policy: AccessPolicy<Subject>, on subject: Subject) async throws -> Bool {
        guard let userID = try identity.optionalUserID() else { return false }
        return try await allows(userID: userID, policy, on: subject)
    }

    /// Whether the user may do what the policy says to the subject.
    public func allows<Subject>(userID: String, _ policy: AccessPolicy<Subject>, on subject: Subject) async throws -> Bool {
        try await policy.decide(userID, subject, self)
    }

    /// Passes when the policy allows it: else a 401 for nobody signed in, or `refusal` (a 403 by default).
    public func authorize<Subject>(
        _ identity: Identity, _ policy: AccessPolicy<Subject>, on subject: Subject,
        refusal: @autoclosure () -> KeelError = KeelError(.forbidden, code: .forbidden, message: "You may not do this.")
    ) async throws {
        guard try identity.optionalUserID() != nil else { throw KeelError.signInRequired }
        guard try await allows(identity, policy, on: subject) else { throw refusal() }
    }
}
