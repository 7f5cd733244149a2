public import Keel
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// Conduit's pages for people, server-rendered on the `web` route group: the home page (global feed, your feed, tag
/// filter, pages of ten), an article (comments added and deleted, favorite, follow), a profile (articles, favorited),
/// the editor (new and existing articles), settings (a new password signs out the user's other sessions), sign in,
/// sign up and sign out. Unsafe actions are POST forms
/// with the CSRF token; nothing needs JavaScript. Written only against Keel's public API, on the same services as the
/// RealWorld API.
public struct Pages: KeelModule {
    public init() {}

    public var name: String { "pages" }

    /// Articles on one page of the home page.
    static let pageSize = 10

    /// Where people sign in; the members' pages send people who are signed out there.
    static let signInPath = "/login"


    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        // The site's icon, at the address every browser asks for whatever the page links (an SVG: Chromium and
        // Firefox take one at any name, by its content type).
        guard let iconURL = Bundle.module.url(forResource: "favicon", withExtension: "svg"), let icon = try? Data(contentsOf: iconURL) else {
            throw KeelError(.internalServerError, message: "favicon.svg is missing from the Conduit bundle")
        }
        let iconBuffer = ByteBuffer(bytes: icon)
        for path in ["/favicon.ico", "/favicon.svg"] {
            routes.static.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "public, max-age=86400"],
                         body: .init(byteBuffer: iconBuffer))
            }
        }
        let web = routes.web
        // Pages and forms for signed-in people: someone signed out is sent to /login, coming back afterwards.
        let members = routes.group(.web.requiringSignIn(at: Self.signInPath))
        let templates = app.templates
        let articles = ArticleService(app: app)
        let accounts = AccountService(app: app)
        let profiles = ProfileService(app: app)

        web.get("/") { request, context -> Response in
            let viewer = try context.identity.optionalUserID(as: Int.self)
            let parameters = request.uri.queryParameters
            let feed = parameters.get("feed") == "you"
            if feed && viewer == nil { return SignIn.redirect(to: Self.signInPath, next: "/?feed=you") }
            var query = try ArticleQuery(parameters)
            let page = max(1, Int(parameters.get("page") ?? "") ?? 1)
            query.limit = Self.pageSize
            query.offset = (page - 1) * Self.pageSize
            let list = try await articles.list(query, viewer: viewer, feed: feed)
            let home = HomePage(
                signedIn: viewer != nil, feed: feed, tag: query.tag, articles: list.articles.map(ArticlePreview.init),
                pages: PageLink.pages(total: list.articlesCount, size: Self.pageSize, current: page, feed: feed, tag: query.tag),
                tags: try await articles.tags())
            return try templates.page("home", home, context: context)
        }

        web.get("/article/{slug}") { _, context -> Response in
            let viewer = try context.identity.optionalUserID(as: Int.self)
            let slug = try context.parameters.require("slug")
            let article = try await articles.article(slug: slug, viewer: viewer)
            let comments = try await articles.comments(slug: slug, viewer: viewer)
            let reader = try await viewer.asyncMap { try await accounts.find("id", $0)?.username } ?? nil
            return try templates.page("article", ArticlePage(
                article: ArticlePreview(article), bodyHTML: Markdown.html(from: article.body ?? ""),
                comments: comments.map { CommentView($0, reader: reader) }, signedIn: viewer != nil,
                mine: reader == article.author.username), context: context)
        }

        members.post("/article/{slug}/comments") { request, context -> Response in
            let slug = try context.parameters.require("slug")
            let viewer = try context.identity.requireUserID(as: Int.self)
            let form = try await FormInput.read(request, context: context)
            do {
                _ = try await articles.addComment(slug: slug, input: form, by: viewer)
            } catch let error as KeelError where error.status == .unprocessableContent {
                context.session.flash("The comment was not added: \(FormProblems(error.messages).sentences.joined(separator: "; ")).", level: .error)
            }
            return SafeRedirect.seeOther("/article/\(URLEncoding.component(slug))#comments")
        }

        members.post("/article/{slug}/comments/{id}/delete") { _, context -> Response in
            let slug = try context.parameters.require("slug")
            let viewer = try context.identity.requireUserID(as: Int.self)
            try await articles.deleteComment(slug: slug, id: try context.parameters.require("id", as: Int.self), by: viewer)
            return SafeRedirect.seeOther("/article/\(URLEncoding.component(slug))#comments")
        }

        members.post("/article/{slug}/favorite") { request, context -> Response in
            let slug = try context.parameters.require("slug")
            let viewer = try context.identity.requireUserID(as: Int.self)
            let form = try await FormInput.read(request, context: context)
            try await articles.favorite(slug: slug, by: viewer, on: form["on"] != "0")
            return SafeRedirect.seeOther(SafeRedirect.path(form["next"], fallback: "/article/\(URLEncoding.component(slug))"))
        }

        members.post("/profile/{username}/follow") { request, context -> Response in
            let username = try context.parameters.require("username")
            let viewer = try context.identity.requireUserID(as: Int.self)
            let form = try await FormInput.read(request, context: context)
            _ = try await profiles.follow(username: username, viewer: viewer, following: form["on"] != "0")
            return SafeRedirect.seeOther(SafeRedirect.path(form["next"], fallback: "/profile/\(URLEncoding.component(username))"))
        }

        web.get("/profile/{username}") { request, context -> Response in
            let viewer = try context.identity.optionalUserID(as: Int.self)
            let username = try context.parameters.require("username")
            let profile = try await profiles.profile(username: username, viewer: viewer)
            let favoritedTab = request.uri.queryParameters.get("tab") == "favorited"
            var query = try ArticleQuery(Parameters())
            query.limit = Self.pageSize
            if favoritedTab { query.favorited = username } else { query.author = username }
            let list = try await articles.list(query, viewer: viewer, feed: false)
            let reader = try await viewer.asyncMap { try await accounts.find("id", $0)?.username } ?? nil
            return try templates.page("profile", ProfilePage(
                username: profile.username, bio: profile.bio, image: profile.image, following: profile.following,
                mine: reader == profile.username, signedIn: viewer != nil, favoritedTab: favoritedTab,
                articles: list.articles.map(ArticlePreview.init)), context: context)
        }

        members.get("/editor") { _, context -> Response in
            return try templates.page("editor", EditorPage(), context: context)
        }
        members.post("/editor") { request, context -> Response in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let form = try await FormInput.read(request, context: context)
            return try await templates.form("editor", context: context, page: {
                EditorPage(title: form["title"], description: form["description"], body: form["body"], tags: form["tagList"], problems: $0)
            }) {
                let slug = try await articles.create(form, author: viewer)
                context.session.flash("Published.", level: .success)
                return SafeRedirect.seeOther("/article/\(URLEncoding.component(slug))")
            }
        }

        members.get("/editor/{slug}") { _, context -> Response in
            let slug = try context.parameters.require("slug")
            let viewer = try context.identity.requireUserID(as: Int.self)
            let article = try await articles.article(slug: slug, viewer: viewer)
            guard try await articles.owner(slug: slug).author == viewer else { throw KeelError(.forbidden, message: "Only its author may edit an article.") }
            return try templates.page("editor", EditorPage(
                slug: article.slug, title: article.title, description: article.description, body: article.body,
                tags: article.tagList.joined(separator: ", ")), context: context)
        }
        members.post("/editor/{slug}") { request, context -> Response in
            let slug = try context.parameters.require("slug")
            let viewer = try context.identity.requireUserID(as: Int.self)
            let form = try await FormInput.read(request, context: context)
            return try await templates.form("editor", context: context, page: {
                EditorPage(slug: slug, title: form["title"], description: form["description"], body: form["body"], tags: form["tagList"], problems: $0)
            }) {
                let newSlug = try await articles.update(slug: slug, with: form, by: viewer)
                context.session.flash("Saved.", level: .success)
                return SafeRedirect.seeOther("/article/\(URLEncoding.component(newSlug))")
            }
        }
        members.post("/article/{slug}/delete") { _, context -> Response in
            let slug = try context.parameters.require("slug")
            let viewer = try context.identity.requireUserID(as: Int.self)
            try await articles.delete(slug: slug, by: viewer)
            context.session.flash("The article was deleted.", level: .info)
            return SafeRedirect.seeOther("/")
        }

        members.get("/settings") { _, context -> Response in
            let user = try await accounts.currentUser(context)
            return try templates.page("settings", SettingsPage(username: user.username, email: user.email, bio: user.bio, image: user.image),
                                      context: context)
        }
        members.post("/settings") { request, context -> Response in
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
                    context.session.flash("Your password was changed; other sessions were signed out.", level: .success)
                } else {
                    context.session.displayName = updated.username
                    context.session.flash("Your settings were saved.", level: .success)
                }
                return SafeRedirect.seeOther("/settings")
            }
        }

        web.get("/login") { request, context in
            try templates.page("login", SignInPage(email: nil, next: request.uri.queryParameters.get("next"), problems: .none), context: context)
        }
        web.post("/login") { request, context -> Response in
            let form = try await FormInput.read(request, context: context)
            // Wrong credentials (401 from the API's login) are shown on the form like any other problem.
            return try await templates.form("login", context: context, alsoFor: [.unauthorized], page: {
                SignInPage(email: form["email"], next: form["next"], problems: $0)
            }) {
                let user = try await accounts.login(form, client: context.security.clientAddress, logger: context.logger)
                context.session.login(userID: String(user.id), displayName: user.username)
                context.session.flash("Welcome back, \(user.username).", level: .success)
                return SafeRedirect.seeOther(SafeRedirect.path(form["next"]))
            }
        }

        web.get("/register") { _, context in
            try templates.page("register", SignUpPage(username: nil, email: nil, problems: .none), context: context)
        }
        web.post("/register") { request, context -> Response in
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

        web.post("/logout") { _, context -> Response in
            context.session.logout()
            return SafeRedirect.seeOther("/")
        }
    }
}

extension Optional {
    /// `map` for an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
