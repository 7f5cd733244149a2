public import Keel
import Foundation
import Hummingbird
import HTTPTypes

/// Conduit's pages for people, server-rendered on the `web` route group: the home page (global feed, your feed, tag
/// filter, pages of ten), an article with its comments, sign in, sign up and sign out. Unsafe actions are POST forms
/// with the CSRF token; nothing needs JavaScript. Written only against Keel's public API, on the same services as the
/// RealWorld API.
public struct Pages: KeelModule {
    public init() {}

    public var name: String { "pages" }

    /// Articles on one page of the home page.
    static let pageSize = 10

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let web = routes.web
        let templates = app.templates
        let articles = ArticleService(app: app)
        let accounts = AccountService(app: app)

        web.get("/") { request, context -> Response in
            let viewer = try context.identity.optionalUserID(as: Int.self)
            let parameters = request.uri.queryParameters
            let feed = parameters.get("feed") == "you"
            if feed && viewer == nil { return SafeRedirect.seeOther("/login?next=%2F%3Ffeed%3Dyou") }
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
            return try templates.page("article", ArticlePage(
                article: ArticlePreview(article), paragraphs: ArticlePage.paragraphs(article.body ?? ""),
                comments: comments.map(CommentView.init), signedIn: viewer != nil), context: context)
        }

        web.get("/login") { request, context in
            try templates.page("login", SignInPage(email: nil, next: request.uri.queryParameters.get("next"), errors: [:]), context: context)
        }
        web.post("/login") { request, context -> Response in
            let form = try await FormInput.read(request, context: context)
            do {
                let user = try await accounts.login(form, client: context.security.clientAddress, logger: context.logger)
                context.session.login(userID: String(user.id))
                context.session.flash("Welcome back, \(user.username).", level: .success)
                return SafeRedirect.seeOther(SafeRedirect.path(form["next"]))
            } catch let error as KeelError where error.status == .unauthorized || error.status == .unprocessableContent {
                return try templates.page(
                    "login", SignInPage(email: form["email"], next: form["next"], errors: error.messages), context: context,
                    status: error.status == .unauthorized ? .unprocessableContent : error.status)
            }
        }

        web.get("/register") { _, context in
            try templates.page("register", SignUpPage(username: nil, email: nil, errors: [:]), context: context)
        }
        web.post("/register") { request, context -> Response in
            let form = try await FormInput.read(request, context: context)
            do {
                let user = try await accounts.register(form)
                context.session.login(userID: String(user.id))
                context.session.flash("Welcome to Conduit, \(user.username).", level: .success)
                return SafeRedirect.seeOther("/")
            } catch let error as KeelError where error.status == .unprocessableContent {
                return try templates.page(
                    "register", SignUpPage(username: form["username"], email: form["email"], errors: error.messages), context: context,
                    status: .unprocessableContent)
            }
        }

        web.post("/logout") { _, context -> Response in
            context.session.logout()
            return SafeRedirect.seeOther("/")
        }
    }
}
