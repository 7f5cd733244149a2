import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// Reading articles: a page of the list or feed, one article, the tags in use.
extension ArticleService {
    /// One page of articles (or the reader's feed) with the total: a constant number of statements whatever the page.
    func list(_ query: ArticleQuery, viewer: Int?, feed: Bool) async throws -> ArticleList {
        try await page(query, viewer: viewer, feed: feed, withTags: false).list
    }

    /// A page of articles with the tags in use beside it, as the home page shows them: one statement, where the list
    /// and a separate `tags()` would be two (each statement is a round trip to SQLite's thread; docs/web.md, "What a
    /// page costs"). An offset past the end gives the last page instead, as Django's `Paginator.get_page` does;
    /// `offset` says which page was read.
    func listWithTags(_ query: ArticleQuery, viewer: Int?, feed: Bool) async throws -> (list: ArticleList, tags: [String], offset: Int) {
        var query = query
        var page = try await page(query, viewer: viewer, feed: feed, withTags: true)
        if page.list.articles.isEmpty && query.offset > 0 && query.limit > 0 && page.list.articlesCount > 0 {
            query.offset = (page.list.articlesCount - 1) / query.limit * query.limit
            page = try await self.page(query, viewer: viewer, feed: feed, withTags: true)
        }
        if let tags = page.tags { return (page.list, tags, query.offset) }
        return (page.list, try await tags(), query.offset)
    }

    /// The list, and when asked the tags in use (`nil` when the statement returned no row to carry them).
    private func page(_ query: ArticleQuery, viewer: Int?, feed: Bool, withTags: Bool) async throws -> (list: ArticleList, tags: [String]?) {
        let sql = self.sql
        var filters: [SQLQueryString] = []
        if feed, let viewer { filters.append("a.author_id IN (SELECT followed_id FROM follows WHERE follower_id = \(bind: viewer))") }
        if let tag = query.tag {
            filters.append("a.id IN (SELECT at.article_id FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE t.name = \(bind: tag))")
        }
        if let author = query.author { filters.append("u.username = \(bind: author)") }
        if let favorited = query.favorited {
            filters.append("a.id IN (SELECT f.article_id FROM favorites f JOIN users fu ON fu.id = f.user_id WHERE fu.username = \(bind: favorited))")
        }
        let whereClause: SQLQueryString = filters.isEmpty ? "" : " WHERE " + filters.joined(separator: " AND ")
        // The count needs `users` only to filter by author name.
        let countFrom: SQLQueryString = query.author == nil ? "SELECT COUNT(*) AS n FROM articles a" : "SELECT COUNT(*) AS n FROM articles a JOIN users u ON u.id = a.author_id"
        let count = countFrom + whereClause
        // The total (and the tags in use) ride along as uncorrelated subqueries, which both databases evaluate once
        // per statement: one round trip for the page and what surrounds it, read from its first row. Only a page past
        // the end (no rows) asks for the count alone.
        //
        // LIMIT and OFFSET are written as numbers, not bound: SQLite plans a LIMIT by its value, so a statement whose
        // LIMIT is a parameter is compiled twice, once when prepared and again when the value is bound (4% of the
        // home page's CPU; docs/data.md, "Raw SQL on a hot path"). Both are integers (checked by `ArticleQuery` or
        // computed by a page), never text as sent.
        var extra: SQLQueryString = ", (" + count + ") AS total"
        if withTags { extra = extra + ", (" + Self.tagsInUseJoined(sql) + ") AS tags_in_use" }
        let rows = query.limit > 0
            ? try await sql.raw(select(body: false, viewer: viewer, extraColumns: extra) + whereClause
                + " ORDER BY a.created_at DESC, a.id DESC LIMIT \(literal: query.limit) OFFSET \(literal: query.offset)").all()
            : []
        guard let first = rows.first else {
            let total = try await sql.raw(count).first(decoding: Count.self)?.n ?? 0
            return (ArticleList(articles: [], articlesCount: total), nil)
        }
        let list = ArticleList(articles: try rows.map { Self.present(try Row($0), withBody: false) },
                               articlesCount: try first.decode(column: "total", as: Int.self))
        return (list, withTags ? Self.tagList(try first.decodeIfPresent(column: "tags_in_use", as: String.self)) : nil)
    }

    func article(slug: String, viewer: Int?) async throws -> ArticleBody {
        guard slug.utf8.count <= 300,
              let row = try await sql.raw(select(body: true, viewer: viewer) + " WHERE a.slug = \(bind: slug)").first().map({ try Row($0) })
        else { throw Self.articleNotFound }
        return Self.present(row, withBody: true)
    }

    /// Everything an article shows in one statement, as Django's annotations do: the author, the favorites count, the
    /// tags (stored sorted), and the reader's `favorited` and `following` flags, each a correlated subquery on an index.
    /// `extraColumns` (each preceded by a comma) are what the statement reads beside its rows: a list's total, the
    /// tags in use.
    func select(body: Bool, viewer: Int?, extraColumns: SQLQueryString = "") -> SQLQueryString {
        let flags: SQLQueryString = if let viewer {
            """
            EXISTS (SELECT 1 FROM favorites fv WHERE fv.user_id = \(bind: viewer) AND fv.article_id = a.id) AS favorited,
            EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = \(bind: viewer) AND fo.followed_id = a.author_id) AS following
            """
        } else {
            "FALSE AS favorited, FALSE AS following"
        }
        let bodyColumn: SQLQueryString = body ? "a.body" : "NULL AS body"
        return """
        SELECT a.slug, a.title, a.description, \(bodyColumn), a.created_at, a.updated_at,
               u.username, u.bio, u.image,
               (SELECT COUNT(*) FROM favorites f WHERE f.article_id = a.id) AS favorites_count,
               a.tag_names,
               \(flags)\(extraColumns)
        FROM articles a JOIN users u ON u.id = a.author_id
        """
    }

    static func present(_ row: Row, withBody: Bool) -> ArticleBody {
        ArticleBody(
            slug: row.slug, title: row.title, description: row.description, body: withBody ? (row.body ?? "") : nil,
            tagList: row.tagList,
            createdAt: UTCTimestamp.string(secondsSince1970: row.created_at), updatedAt: UTCTimestamp.string(secondsSince1970: row.updated_at),
            favorited: row.favorited, favoritesCount: row.favorites_count, author: row.author)
    }

    func tags() async throws -> [String] {
        let sql = self.sql
        return try await sql.raw("SELECT name " + Self.tagsInUse + " " + Self.nameOrder(sql))
            .all().map { try $0.decode(column: "name", as: String.self) }
    }

    /// Tags in use: one probe of article_tags' tag index per tag, walking the unique name index (no sort on SQLite).
    static let tagsInUse: SQLQueryString = "FROM tags WHERE EXISTS (SELECT 1 FROM article_tags WHERE article_tags.tag_id = tags.id)"

    /// By bytes on both databases, as `tagList` is sorted: PostgreSQL's default collation would follow the server's
    /// locale instead.
    static func nameOrder(_ sql: any SQLDatabase) -> SQLQueryString {
        sql.dialect.name == "postgresql" ? #"ORDER BY name COLLATE "C""# : "ORDER BY name"
    }

    /// The tags in use as one text, sorted and joined by `tagSeparator` (character 31) as `articles.tag_names` is
    /// (read back with `tagList`), or NULL when no article has a tag.
    static func tagsInUseJoined(_ sql: any SQLDatabase) -> SQLQueryString {
        let aggregate: SQLQueryString = sql.dialect.name == "postgresql" ? "string_agg(name, chr(31) " : "group_concat(name, char(31) "
        return "SELECT " + aggregate + nameOrder(sql) + ") " + tagsInUse
    }
}
