import Keel
import Hummingbird

/// The editor, for a new article and for one of the author's own: the form shows again with each problem beside its
/// field (422), or the article is saved and shown.
struct EditorPages {
    let templates: Templates
    let articles: ArticleService

    func add(to members: RouteRegistrar) {
        members.get("/editor") { _, context in try templates.page("editor", EditorPage(), context: context) }
        members.post("/editor", use: create)
        members.get("/editor/{slug}", use: edit)
        members.post("/editor/{slug}", use: update)
    }

    @Sendable func create(_ request: Request, context: KeelContext) async throws -> Response {
        let viewer = try context.identity.requireUserID(as: Int.self)
        let form = try await FormInput.read(request, context: context)
        return try await templates.form("editor", context: context, page: {
            EditorPage(title: form["title"], description: form["description"], body: form["body"], tags: form["tagList"], problems: $0)
        }) {
            let slug = try await articles.create(form, author: viewer)
            context.session.flash("Published.", level: .success)
            return SafeRedirect.seeOther(ArticleActions.articlePath(slug))
        }
    }

    @Sendable func edit(_ request: Request, context: KeelContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let viewer = try context.identity.requireUserID(as: Int.self)
        let article = try await articles.article(slug: slug, viewer: viewer)
        guard try await articles.owner(slug: slug).author == viewer else { throw KeelError(.forbidden, message: "Only its author may edit an article.") }
        return try templates.page("editor", EditorPage(
            slug: article.slug, title: article.title, description: article.description, body: article.body,
            tags: article.tagList.joined(separator: ", ")), context: context)
    }

    @Sendable func update(_ request: Request, context: KeelContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        let viewer = try context.identity.requireUserID(as: Int.self)
        let form = try await FormInput.read(request, context: context)
        return try await templates.form("editor", context: context, page: {
            EditorPage(slug: slug, title: form["title"], description: form["description"], body: form["body"], tags: form["tagList"], problems: $0)
        }) {
            let newSlug = try await articles.update(slug: slug, with: form, by: viewer)
            context.session.flash("Saved.", level: .success)
            return SafeRedirect.seeOther(ArticleActions.articlePath(newSlug))
        }
    }
}
