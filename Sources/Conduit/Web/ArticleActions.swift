import Keel
import Hummingbird

/// What a signed-in reader does from an article or a profile, each a POST form that redirects back (303): comment,
/// delete a comment, favorite, follow, delete their own article.
struct ArticleActions {
    let articles: ArticleService
    let profiles: ProfileService

    func add(to members: RouteRegistrar) {
        members.post("/article/{slug}/comments", use: comment)
        members.post("/article/{slug}/comments/{id}/delete", use: deleteComment)
        members.post("/article/{slug}/favorite", use: favorite)
        members.post("/article/{slug}/delete", use: delete)
        members.post("/profile/{username}/follow", use: follow)
    }

    @Sendable func comment(_ request: Request, context: KeelContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let viewer = try context.identity.requireUserID(as: Int.self)
        let form = try await FormInput.read(request, context: context)
        do {
            _ = try await articles.addComment(slug: slug, input: form, by: viewer)
        } catch let error as KeelError where error.status == .unprocessableContent {
            context.session.flash("The comment was not added: \(FormProblems(error.messages).sentences.joined(separator: "; ")).", level: .error)
        }
        return SafeRedirect.seeOther(Self.articlePath(slug) + "#comments")
    }

    @Sendable func deleteComment(_ request: Request, context: KeelContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let viewer = try context.identity.requireUserID(as: Int.self)
        try await articles.deleteComment(slug: slug, id: try context.parameters.require("id", as: Int.self), by: viewer)
        return SafeRedirect.seeOther(Self.articlePath(slug) + "#comments")
    }

    @Sendable func favorite(_ request: Request, context: KeelContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let viewer = try context.identity.requireUserID(as: Int.self)
        let form = try await FormInput.read(request, context: context)
        try await articles.favorite(slug: slug, by: viewer, on: form["on"] != "0")
        return SafeRedirect.seeOther(SafeRedirect.path(form["next"], fallback: Self.articlePath(slug)))
    }

    @Sendable func delete(_ request: Request, context: KeelContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let viewer = try context.identity.requireUserID(as: Int.self)
        try await articles.delete(slug: slug, by: viewer)
        context.session.flash("The article was deleted.", level: .info)
        return SafeRedirect.seeOther("/")
    }

    @Sendable func follow(_ request: Request, context: KeelContext) async throws -> Response {
        let username = try context.parameters.require("username")
        let viewer = try context.identity.requireUserID(as: Int.self)
        let form = try await FormInput.read(request, context: context)
        _ = try await profiles.follow(username: username, viewer: viewer, following: form["on"] != "0")
        return SafeRedirect.seeOther(SafeRedirect.path(form["next"], fallback: "/profile/\(URLEncoding.component(username))"))
    }

    /// An article's page.
    static func articlePath(_ slug: String) -> String { "/article/\(URLEncoding.component(slug))" }
}
