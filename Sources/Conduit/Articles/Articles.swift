import Hummingbird
public import Keel
import FluentKit
import Foundation
import SQLKit

/// RealWorld's articles: list and feed, read, create, update, delete, favorite, comments and tags.
///
/// Read paths are SQLKit queries that fetch exactly the columns they need, one statement per request whatever the page
/// size (the page with its total, authors, favorite counts, tags and the reader's flags; comments with their article),
/// proved by query-budget tests.
public struct Articles: AuditedModule, CacheInvalidatingModule {
    public init() {}

    /// How long an anonymous answer of the read routes is served from the cache. Writes through the data layer purge
    /// what they change at once (`cacheInvalidations`); this bounds anything else (a row changed by hand).
    static let cacheTTL = Duration.seconds(60)

    /// What each write makes stale: cached lists, articles and the home page show articles, their favorite counts
    /// and their tags; comments show under their article.
    public var cacheInvalidations: [CacheInvalidation] {
        [
            CacheInvalidation("articles", key: "id", tags: ["articles", "tags"]),
            CacheInvalidation("comments", key: "id", tags: ["comments"]),
            CacheInvalidation("favorites", key: ["user_id", "article_id"], tags: ["articles"]),
        ]
    }

    public var name: String { "articles" }

    /// Articles, comments and favorites are audited; what an author wrote is personal to them (sealed with their key).
    /// Deleting an article deletes its comments and favorites (and a user, all three): those are recorded too.
    public var audited: [AuditedTable] {
        [
            AuditedTable("articles", key: "id", subject: .column("author_id"), personal: ["slug", "title", "description", "body"],
                         deletedWith: [.init(parent: "users", column: "author_id")]),
            AuditedTable("comments", key: "id", subject: .column("author_id"), personal: ["body"],
                         deletedWith: [.init(parent: "articles", column: "article_id"), .init(parent: "users", column: "author_id")]),
            AuditedTable("favorites", key: ["user_id", "article_id"], subject: .column("user_id"),
                         deletedWith: [.init(parent: "articles", column: "article_id"), .init(parent: "users", column: "user_id")]),
        ]
    }

    /// What moderators may do beyond their own articles and comments (docs/permissions.md).
    public var permissions: [Permission] {
        [
            Permission("articles.delete_article", "Delete anyone's article"),
            Permission("articles.delete_comment", "Delete anyone's comment"),
        ]
    }

    public var migrations: [any KeelMigration] {
        [
            NamedMigration("articles.0001_create_articles", prepare: { db in
                try await db.schema("articles")
                    .field("id", .int64, .identifier(auto: true))
                    .field("slug", .string, .required)
                    .field("title", .string, .required)
                    .field("description", .string, .required)
                    .field("body", .string, .required)
                    .field("author_id", .int64, .required, .references("users", "id", onDelete: .cascade))
                    .field("created_at", .double, .required)
                    .field("updated_at", .double, .required)
                    .unique(on: "slug")
                    .create()
                try await db.createIndex("articles_created_idx", on: "articles", columns: ["created_at"])
                try await db.createIndex("articles_author_created_idx", on: "articles", columns: ["author_id", "created_at"])
                try await db.schema("tags")
                    .field("id", .int64, .identifier(auto: true))
                    .field("name", .string, .required)
                    .unique(on: "name")
                    .create()
                try await db.schema("article_tags")
                    .field("article_id", .int64, .required, .references("articles", "id", onDelete: .cascade))
                    .field("tag_id", .int64, .required, .references("tags", "id", onDelete: .cascade))
                    .field("position", .int, .required)
                    .compositeIdentifier(over: "article_id", "tag_id")
                    .create()
                try await db.createIndex("article_tags_tag_idx", on: "article_tags", columns: ["tag_id"])
                try await db.schema("favorites")
                    .field("user_id", .int64, .required, .references("users", "id", onDelete: .cascade))
                    .field("article_id", .int64, .required, .references("articles", "id", onDelete: .cascade))
                    .compositeIdentifier(over: "user_id", "article_id")
                    .create()
                try await db.createIndex("favorites_article_idx", on: "favorites", columns: ["article_id"])
                try await db.schema("comments")
                    .field("id", .int64, .identifier(auto: true))
                    .field("article_id", .int64, .required, .references("articles", "id", onDelete: .cascade))
                    .field("author_id", .int64, .required, .references("users", "id", onDelete: .cascade))
                    .field("body", .string, .required)
                    .field("created_at", .double, .required)
                    .field("updated_at", .double, .required)
                    .create()
                try await db.createIndex("comments_article_created_idx", on: "comments", columns: ["article_id", "created_at"])
            }, revert: { db in
                for table in ["comments", "favorites", "article_tags", "tags", "articles"] { try await db.schema(table).delete() }
            }),
            // Every article shown carries its tag names in order; gathering them per article (a join and a sort each)
            // was half of the article list's statement (125 -> 60 µs for a page of 20 in SQLite). `article_tags` stays
            // the truth for filtering and `/api/tags`; `articles.tag_names` is written with it, in one transaction.
            NamedMigration("articles.0002_article_tag_names", prepare: { db in
                try await db.schema("articles").field("tag_names", .string).update()
                try await Self.fillTagNames(db.sql, sorted: false)
            }, revert: { db in
                try await db.schema("articles").deleteField("tag_names").update()
            }),
            // Every article presents its tags sorted (RealWorld's Postman collection expects `["dragons", "training"]`
            // for `["training", "dragons"]`); new articles store them sorted, and this re-sorts the ones stored before,
            // by bytes (code points) on both databases, as `ArticleService.sortedTags` does.
            NamedMigration("articles.0003_sorted_tag_names", prepare: { db in
                try await Self.fillTagNames(db.sql, sorted: true)
            }, revert: { _ in
                // The given order is still in article_tags.position; reverting leaves the sorted names, which read the same.
            }),
        ]
    }

    /// Rewrites every article's `tag_names` from its `article_tags` links, in their given order (`articles.0002`) or
    /// sorted by bytes (`articles.0003`: SQLite's `BINARY`, PostgreSQL's `"C"` collation), joined by U+001F.
    static func fillTagNames(_ sql: any SQLDatabase, sorted: Bool) async throws {
        let postgres = sql.dialect.name == "postgresql"
        let order: SQLQueryString = sorted ? (postgres ? #"t.name COLLATE "C""# : "t.name") : "at.position"
        let aggregate: SQLQueryString = postgres ? "string_agg(t.name, chr(31) ORDER BY " + order + ")" : "group_concat(t.name, char(31) ORDER BY " + order + ")"
        try await sql.raw("UPDATE articles SET tag_names = (SELECT " + aggregate
            + " FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = articles.id)").run()
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let api = routes.api
        // Anonymous reads are served from the cache; a request with a token goes to the handler (its answer has the
        // reader's favorites and follows).
        let reads = routes.group(.api.cached(for: Self.cacheTTL))
        let service = ArticleService(app: app)
        reads.get("/api/articles") { request, context -> ArticleList in
            context.tagCachedResponse("articles")
            let viewer = try context.identity.optionalUserID(as: Int.self)
            let query = try ArticleQuery(request.uri.queryParameters)
            return try await service.list(query, viewer: viewer, feed: false)
        }
        api.get("/api/articles/feed") { request, context -> ArticleList in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let query = try ArticleQuery(request.uri.queryParameters)
            return try await service.list(query, viewer: viewer, feed: true)
        }
        api.post("/api/articles") { request, context -> EditedResponse<ArticleEnvelope> in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let input = try await JSONInput.read(request, context: context, envelope: "article")
            let slug = try await service.create(input, author: viewer)
            return EditedResponse(status: .created, response: ArticleEnvelope(article: try await service.article(slug: slug, viewer: viewer)))
        }
        reads.get("/api/articles/{slug}") { _, context -> ArticleEnvelope in
            context.tagCachedResponse("articles")
            let viewer = try context.identity.optionalUserID(as: Int.self)
            return ArticleEnvelope(article: try await service.article(slug: try context.parameters.require("slug"), viewer: viewer))
        }
        api.put("/api/articles/{slug}") { request, context -> ArticleEnvelope in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let input = try await JSONInput.read(request, context: context, envelope: "article")
            let slug = try await service.update(slug: try context.parameters.require("slug"), with: input, by: viewer)
            return ArticleEnvelope(article: try await service.article(slug: slug, viewer: viewer))
        }
        api.delete("/api/articles/{slug}") { _, context -> Response in
            let viewer = try context.identity.requireUserID(as: Int.self)
            try await service.delete(slug: try context.parameters.require("slug"), by: viewer)
            return Response(status: .noContent)
        }
        api.post("/api/articles/{slug}/favorite") { _, context -> ArticleEnvelope in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let slug = try context.parameters.require("slug")
            try await service.favorite(slug: slug, by: viewer, on: true)
            return ArticleEnvelope(article: try await service.article(slug: slug, viewer: viewer))
        }
        api.delete("/api/articles/{slug}/favorite") { _, context -> ArticleEnvelope in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let slug = try context.parameters.require("slug")
            try await service.favorite(slug: slug, by: viewer, on: false)
            return ArticleEnvelope(article: try await service.article(slug: slug, viewer: viewer))
        }
        reads.get("/api/articles/{slug}/comments") { _, context -> CommentsEnvelope in
            context.tagCachedResponse("comments")
            let viewer = try context.identity.optionalUserID(as: Int.self)
            return CommentsEnvelope(comments: try await service.comments(slug: try context.parameters.require("slug"), viewer: viewer))
        }
        api.post("/api/articles/{slug}/comments") { request, context -> CommentEnvelope in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let input = try await JSONInput.read(request, context: context, envelope: "comment")
            let comment = try await service.addComment(slug: try context.parameters.require("slug"), input: input, by: viewer)
            return CommentEnvelope(comment: comment)
        }
        api.delete("/api/articles/{slug}/comments/{id}") { _, context -> Response in
            let viewer = try context.identity.requireUserID(as: Int.self)
            guard let id = Int(try context.parameters.require("id")) else { throw ArticleService.commentNotFound }
            try await service.deleteComment(slug: try context.parameters.require("slug"), id: id, by: viewer)
            return Response(status: .noContent)
        }
        reads.get("/api/tags") { _, context -> TagsEnvelope in
            context.tagCachedResponse("tags")
            return TagsEnvelope(tags: try await service.tags())
        }
    }
}

/// `limit`, `offset` and the filters of a list request.
struct ArticleQuery: Sendable {
    /// The most articles one page holds; a larger `limit` is accepted and gives this many.
    static let maximumLimit = 100
    /// The largest `limit` and `offset` accepted (the OpenAPI document says the same).
    static let largestParameter = 1_000_000_000

    var limit = 20
    var offset = 0
    var tag: String?
    var author: String?
    var favorited: String?

    init(_ parameters: Parameters) throws {
        var problems = ValidationProblems()
        if let text = parameters.get("limit") {
            // 0 is allowed: no articles, only `articlesCount`.
            if let value = Int(text), (0...Self.largestParameter).contains(value) { limit = min(value, Self.maximumLimit) } else {
                problems.add("limit", "must be a whole number from 0 to \(Self.largestParameter)")
            }
        }
        if let text = parameters.get("offset") {
            if let value = Int(text), (0...Self.largestParameter).contains(value) { offset = value } else {
                problems.add("offset", "must be a whole number from 0 to \(Self.largestParameter)")
            }
        }
        tag = parameters.get("tag").map { String($0.prefix(200)) }
        author = parameters.get("author").map { String($0.prefix(200)) }
        favorited = parameters.get("favorited").map { String($0.prefix(200)) }
        try problems.throwIfAny()
    }
}
