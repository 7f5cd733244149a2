import Keel
import Hummingbird

/// A person's account: sign in, sign up and sign out for everyone; settings for the signed-in.
struct AccountPages {
    let templates: Templates
    let accounts: AccountService

    func add(to web: RouteRegistrar, members: RouteRegistrar) {
        web.get("/login") { request, context in
            try templates.page("login", SignInPage(email: nil, next: request.uri.queryParameters.get("next"), problems: .none), context: context)
        }
        web.post("/login", use: signIn)
        web.get("/register") { _, context in
            try templates.page("register", SignUpPage(username: nil, email: nil, problems: .none), context: context)
        }
        web.post("/register", use: signUp)
        web.post("/logout") { _, context -> Response in
            context.session.logout()
            return SafeRedirect.seeOther("/")
        }
        members.get("/settings", use: settings)
        members.post("/settings", use: saveSettings)
    }

    @Sendable func signIn(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        // Wrong credentials (401 from the API's login) are shown on the form like any other problem.
        return try await templates.form("login", context: context, alsoFor: [.unauthorized], page: {
            SignInPage(email: form["email"], next: form["next"], problems: $0)
        }) {
            let user = try await accounts.login(form, client: context.security.clientAddress, logger: context.logger)
            context.session.login(userID: String(user.id), displayName: user.username)
            if user.password_reset_required != 0 {
                // Staff required a new password: chosen first, on the settings page, before any member page opens.
                context.session[AccountService.passwordResetKey] = "1"
                context.session.flash("Welcome back, \(user.username). Choose a new password before going on.", level: .warning)
                return SafeRedirect.seeOther("/settings")
            }
            context.session.flash("Welcome back, \(user.username).", level: .success)
            return SafeRedirect.seeOther(SafeRedirect.path(form["next"]))
        }
    }

    @Sendable func signUp(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        return try await templates.form("register", context: context, page: {
            SignUpPage(username: form["username"], email: form["email"], problems: $0)
        }) {
            let user = try await accounts.register(form)
            context.session.login(userID: String(user.id), displayName: user.username)
            context.session.flash("Welcome to Conduit, \(user.username).", level: .success)
            return SafeRedirect.seeOther("/")
        }
    }

    @Sendable func settings(_ request: Request, context: KeelContext) async throws -> Response {
        let user = try await accounts.currentUser(context)
        return try templates.page("settings", SettingsPage(username: user.username, email: user.email, bio: user.bio, image: user.image),
                                  context: context)
    }

    @Sendable func saveSettings(_ request: Request, context: KeelContext) async throws -> Response {
        let viewer = try context.identity.requireUserID(as: Int.self)
        let user = try await accounts.currentUser(context)
        // A "new password" left blank changes nothing.
        let form = try await FormInput.read(request, context: context).droppingEmpty("password")
        return try await templates.form("settings", context: context, page: {
            SettingsPage(username: form["username"], email: form["email"], bio: form["bio"], image: form["image"], problems: $0)
        }) {
            let updated = try await accounts.update(user, with: form)
            if form.contains("password") {
                // The update ended every session of the user; this browser stays signed in with a new key.
                context.session.login(userID: String(viewer), displayName: updated.username)
                context.session[AccountService.passwordResetKey] = nil
                context.session.flash("Your password was changed; other sessions were signed out.", level: .success)
            } else {
                context.session.displayName = updated.username
                context.session.flash("Your settings were saved.", level: .success)
            }
            return SafeRedirect.seeOther("/settings")
        }
    }
}
