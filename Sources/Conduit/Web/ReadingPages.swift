import Keel
import Hummingbird

/// The pages anyone can read: the home page (global feed, your feed, a tag, pages of ten), an article with its
/// comments, and a profile (the author's articles or their favorites).
struct ReadingPages {
    let templates: Templates
    let articles: ArticleService
    let accounts: AccountService
    let profiles: ProfileService

    /// `reads` caches anonymous answers (`Pages.readingPolicy`).
    func add(to web: RouteRegistrar, reads: RouteRegistrar) {
        reads.get("/", use: home)
        reads.get("/article/{slug}", use: article)
        web.get("/profile/{username}", use: profile)
    }

    @Sendable func home(_ request: Request, context: KeelContext) async throws -> Response {
        context.tagCachedResponse("articles", "tags")
        let viewer = try context.identity.optionalUserID(as: Int.self)
        let parameters = request.uri.queryParameters
        let feed = parameters.get("feed") == "you"
        if feed && viewer == nil { return SignIn.redirect(to: Pages.signInPath, next: "/?feed=you") }
        var query = try ArticleQuery(parameters)
        // As Django's `Paginator.get_page`: a page that is not a whole number is the first, one past the end the last
        // (`listWithTags`). Clamped before it is multiplied, so no number a visitor types can overflow the offset.
        let requested = min(max(1, Int(parameters.get("page") ?? "") ?? 1), Pages.highestPage)
        query.limit = Pages.pageSize
        query.offset = (requested - 1) * Pages.pageSize
        let (list, tags, offset) = try await articles.listWithTags(query, viewer: viewer, feed: feed)
        let page = offset / Pages.pageSize + 1
        let home = HomePage(
            signedIn: viewer != nil, feed: feed, tag: query.tag, articles: list.articles.map(ArticlePreview.init),
            pages: PageLink.pages(total: list.articlesCount, size: Pages.pageSize, current: page, feed: feed, tag: query.tag),
            tags: tags)
        return try templates.page("home", home, context: context)
    }

    @Sendable func article(_ request: Request, context: KeelContext) async throws -> Response {
        context.tagCachedResponse("articles", "comments")
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

    @Sendable func profile(_ request: Request, context: KeelContext) async throws -> Response {
        let viewer = try context.identity.optionalUserID(as: Int.self)
        let username = try context.parameters.require("username")
        let profile = try await profiles.profile(username: username, viewer: viewer)
        let favoritedTab = request.uri.queryParameters.get("tab") == "favorited"
        var query = try ArticleQuery(Parameters())
        query.limit = Pages.pageSize
        if favoritedTab { query.favorited = username } else { query.author = username }
        let list = try await articles.list(query, viewer: viewer, feed: false)
        let reader = try await viewer.asyncMap { try await accounts.find("id", $0)?.username } ?? nil
        return try templates.page("profile", ProfilePage(
            username: profile.username, bio: profile.bio, image: profile.image, following: profile.following,
            mine: reader == profile.username, signedIn: viewer != nil, favoritedTab: favoritedTab,
            articles: list.articles.map(ArticlePreview.init)), context: context)
    }
}
