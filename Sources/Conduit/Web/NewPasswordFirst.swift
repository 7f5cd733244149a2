import Keel
import Hummingbird

/// Groups whose pages wait until a user whom staff required to choose a new password has chosen it: until then they
/// are sent to the settings page (`Pages` contributes the stage, `pages.newPasswordFirst`, in the `access` slot).
enum NewPasswordFirst: RoutePolicyOption {
    static func defaultValue(for base: RoutePolicy.Base) -> Bool { false }
}

extension RoutePolicy {
    /// The same group, whose pages send a user who must choose a new password to the settings page first.
    func choosingNewPasswordFirst() -> RoutePolicy {
        with(NewPasswordFirst.self, true, named: "new_password_first")
    }
}

/// Sends a signed-in user who must choose a new password (a flag in their session, set at sign-in) to the settings
/// page: a look at the session, no query.
struct NewPasswordFirstHook: RequestHook {
    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        guard context.session[AccountService.passwordResetKey] == "1" else { return nil }
        context.session.flash("Choose a new password before going on.", level: .warning)
        return SafeRedirect.seeOther("/settings")
    }
}
