public import Hummingbird
public import KeelKernel
import KeelCore
import Foundation

/// Whether a group's routes need a signed-in user, and where people sign in (`RoutePolicy.requiringSignIn(at:)`).
/// `nil`, the default everywhere: anyone.
public enum SignInRequired: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> String? { nil }
}

extension RoutePolicy {
    /// The same group for signed-in users only, named `<group>.signed_in`: a page asked for by someone signed out
    /// answers `303 See Other` to `signInPath?next=<where they were going>` (a group with JSON errors answers 401).
    ///
    /// ```swift
    /// let members = routes.group(.web.requiringSignIn(at: "/login"))
    /// members.get("/settings") { _, context in … }      // context.identity.userID is set here
    /// ```
    public func requiringSignIn(at signInPath: String = "/login") -> RoutePolicy {
        precondition(SafeRedirect.isLocalPath(signInPath), "The sign-in page must be a path on this site: \(signInPath)")
        return with(SignInRequired.self, signInPath, named: "signed_in")
    }
}

/// Sends people who are not signed in to the sign-in page, coming back afterwards.
public enum SignIn {
    /// `303 See Other` to `signInPath?next=<next>`, `next` percent-encoded (and only ever a path on this site).
    public static func redirect(to signInPath: String = "/login", next: String) -> Response {
        SafeRedirect.interruption(to: signInPath, next: next)
    }
}

/// The `web.signIn` stage (slot `access`) of groups that require it.
struct SignInHook: RequestHook {
    let signInPath: String
    let format: ErrorFormat

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        guard context.identity.userID == nil else { return nil }
        if format.resolved(for: request) == .json {
            throw KeelError.signInRequired
        }
        return SafeRedirect.interruption(to: signInPath, returningFrom: request, context: context)
    }
}
