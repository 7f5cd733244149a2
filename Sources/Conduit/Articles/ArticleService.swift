import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// An article as RealWorld shows it; `body` is left out of list items.
struct ArticleBody: Encodable, Sendable {
    let slug: String
    let title: String
    let description: String
    let body: String?
    let tagList: [String]
    let createdAt: String
    let updatedAt: String
    let favorited: Bool
    let favoritesCount: Int
    let author: ProfileBody

    // Synthesized encoding: keys in this order, and `body` left out when nil (lists).
}

struct ArticleList: Encodable, Sendable {
    let articles: [ArticleBody]
    let articlesCount: Int
}

struct CommentBody: Encodable, Sendable {
    let id: Int
    let createdAt: String
    let updatedAt: String
    let body: String
    let author: ProfileBody
}

struct ArticleService: Sendable {
    let app: KeelApplication
    var sql: any SQLDatabase { app.database.sql }

    static var articleNotFound: KeelError { KeelError(.notFound, messages: ["article": ["not found"]]) }
    static var commentNotFound: KeelError { KeelError(.notFound, messages: ["comment": ["not found"]]) }
    static var forbidden: KeelError { KeelError(.forbidden, messages: ["article": ["forbidden"]]) }

    struct Row {
        let slug: String
        let title: String
        let description: String
        let body: String?
        let created_at: Double
        let updated_at: Double
        let author: ProfileBody
        let favorites_count: Int
        /// The article's tags, sorted (stored joined and sorted in `articles.tag_names`).
        let tagList: [String]
        let favorited: Bool
        /// How many articles match in all, when the statement asked (lists).
        let total: Int?

        /// Column by column rather than through `Decodable`: SQLKit's row decoder wraps every column in a keyed
        /// container and checks each optional's presence first, which was a sixth of an article page's CPU.
        init(_ row: some SQLRow) throws {
            slug = try row.decode(column: "slug", as: String.self)
            title = try row.decode(column: "title", as: String.self)
            description = try row.decode(column: "description", as: String.self)
            body = try row.decode(column: "body", as: String?.self)
            created_at = try row.decode(column: "created_at", as: Double.self)
            updated_at = try row.decode(column: "updated_at", as: Double.self)
            author = try ArticleService.author(of: row)
            favorites_count = try row.decode(column: "favorites_count", as: Int.self)
            tagList = ArticleService.tagList(try row.decode(column: "tag_names", as: String?.self))
            favorited = try row.decode(column: "favorited", as: Bool.self)
            total = row.contains(column: "total") ? try row.decode(column: "total", as: Int?.self) : nil
        }
    }

    /// Separates tag names in `articles.tag_names` (tags cannot contain control characters).
    static let tagSeparator: Character = "\u{1F}"

    /// Tag names as `articles.tag_names` stores them, sorted (so every read presents them sorted without sorting);
    /// `nil` for none.
    static func joinedTagNames(_ tags: [String]) -> String? {
        tags.isEmpty ? nil : sortedTags(tags).joined(separator: String(tagSeparator))
    }

    /// Tags in the order every article presents them: by their UTF-8 bytes, which is code point order, the order of
    /// SQLite's `BINARY` and PostgreSQL's `"C"` collation, so `GET /api/tags` and `tagList` agree
    /// (`["training", "dragons"]` is shown as `["dragons", "training"]`, as RealWorld's own Postman collection expects).
    static func sortedTags(_ tags: [String]) -> [String] {
        tags.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `articles.tag_names` back as a list.
    static func tagList(_ joined: String?) -> [String] {
        joined.map { $0.split(separator: tagSeparator).map(String.init) } ?? []
    }

    /// The author columns (`username`, `bio`, `image`, `following`) every article and comment row carries.
    static func author(of row: some SQLRow) throws -> ProfileBody {
        ProfileBody(
            username: try row.decode(column: "username", as: String.self), bio: try row.decode(column: "bio", as: String?.self),
            image: try row.decode(column: "image", as: String?.self), following: try row.decode(column: "following", as: Bool.self))
    }

    // MARK: Reading

    /// One page of articles (or the reader's feed) with the total: a constant number of statements whatever the page.
    func list(_ query: ArticleQuery, viewer: Int?, feed: Bool) async throws -> ArticleList {
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
        // The total rides along as an uncorrelated subquery, which both databases evaluate once per statement: one
        // round trip for the page and its count. Only a page past the end (no rows) asks for the count alone.
        var rows: [Row] = []
        if query.limit > 0 {
            rows = try await sql.raw(select(body: false, viewer: viewer, total: count) + whereClause
                + " ORDER BY a.created_at DESC, a.id DESC LIMIT \(bind: query.limit) OFFSET \(bind: query.offset)")
                .all().map { try Row($0) }
        }
        let total = if let first = rows.first?.total { first } else { try await sql.raw(count).first(decoding: Count.self)?.n ?? 0 }
        return ArticleList(articles: rows.map { Self.present($0, withBody: false) }, articlesCount: total)
    }

    func article(slug: String, viewer: Int?) async throws -> ArticleBody {
        guard slug.utf8.count <= 300,
              let row = try await sql.raw(select(body: true, viewer: viewer) + " WHERE a.slug = \(bind: slug)").first().map({ try Row($0) })
        else { throw Self.articleNotFound }
        return Self.present(row, withBody: true)
    }

    /// Everything an article shows in one statement, as Django's annotations do: the author, the favorites count, the
    /// tags in order, and the reader's `favorited` and `following` flags, each a correlated subquery on an index.
    func select(body: Bool, viewer: Int?, total: SQLQueryString? = nil) -> SQLQueryString {
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
               \(flags)\(total.map { ", (" + $0 + ") AS total" } ?? "")
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
        // Tags in use, by name: one probe of article_tags' tag index per tag, walking the unique name index (no sort on
        // SQLite). By bytes on both databases, as `tagList` is sorted: PostgreSQL's default collation would follow
        // the server's locale instead.
        let order: SQLQueryString = sql.dialect.name == "postgresql" ? #"ORDER BY name COLLATE "C""# : "ORDER BY name"
        return try await sql.raw("SELECT name FROM tags WHERE EXISTS (SELECT 1 FROM article_tags WHERE article_tags.tag_id = tags.id) " + order)
            .all().map { try $0.decode(column: "name", as: String.self) }
    }

    // MARK: Writing

    func create(_ input: JSONInput, author: Int) async throws -> String {
        var problems = ValidationProblems()
        let title = input.string("title", problems: &problems, required: true)
        let description = input.string("description", problems: &problems, required: true)
        let body = input.string("body", problems: &problems, required: true)
        let tagList = input.strings("tagList", problems: &problems) ?? []
        Self.check(title: title, description: description, body: body, problems: &problems)
        let tags = Self.normalize(tags: tagList, problems: &problems)
        try problems.throwIfAny()
        let now = app.clock().timeIntervalSince1970
        let slug = Self.slug(for: title!)
        try await app.database.transaction { sql in
            // The names ride on the article too (`articles.tag_names`), so reading an article needs no join.
            let tagNames = Self.joinedTagNames(tags)
            guard let article = try await sql.raw("""
                INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at, tag_names)
                VALUES (\(bind: slug), \(bind: title!), \(bind: description!), \(bind: body!), \(bind: author), \(bind: now), \(bind: now),
                        \(bind: tagNames))
                RETURNING id
                """).first(decoding: IDRow.self) else { throw KeelError(.internalServerError) }
            guard !tags.isEmpty else { return }
            // Two statements whatever the number of tags: new names in one insert, then every link with its position.
            let names = tags.map { "(\(bind: $0))" as SQLQueryString }.joined(separator: ", ")
            try await sql.raw("INSERT INTO tags (name) VALUES " + names + " ON CONFLICT (name) DO NOTHING").run()
            let positions = tags.enumerated().map { "WHEN \(bind: $0.element) THEN \(bind: $0.offset)" as SQLQueryString }.joined(separator: " ")
            try await sql.raw("""
                INSERT INTO article_tags (article_id, tag_id, position)
                SELECT \(bind: article.id), t.id, CASE t.name \(positions) END FROM tags t WHERE t.name IN (\(binds: tags))
                """).run()
        }
        return slug
    }

    func update(slug: String, with input: JSONInput, by viewer: Int) async throws -> String {
        let (id, author) = try await owner(slug: slug)
        guard author == viewer else { throw Self.forbidden }
        var problems = ValidationProblems()
        let title = input.contains("title") ? input.string("title", problems: &problems, required: true) : nil
        let description = input.contains("description") ? input.string("description", problems: &problems, required: true) : nil
        let body = input.contains("body") ? input.string("body", problems: &problems, required: true) : nil
        Self.check(title: title, description: description, body: body, problems: &problems)
        try problems.throwIfAny()
        var newSlug = slug
        var update = sql.update("articles").set("updated_at", to: app.clock().timeIntervalSince1970)
        if let title {
            newSlug = Self.slug(for: title)
            update = update.set("title", to: title).set("slug", to: newSlug)
        }
        if let description { update = update.set("description", to: description) }
        if let body { update = update.set("body", to: body) }
        try await update.where("id", .equal, id).run()
        return newSlug
    }

    func delete(slug: String, by viewer: Int) async throws {
        let (id, author) = try await owner(slug: slug)
        guard author == viewer else { throw Self.forbidden }
        try await sql.delete(from: "articles").where("id", .equal, id).run()
    }

    func favorite(slug: String, by viewer: Int, on: Bool) async throws {
        let (id, _) = try await owner(slug: slug)
        if on {
            try await sql.insert(into: "favorites").columns("user_id", "article_id").values(SQLBind(viewer), SQLBind(id))
                .ignoringConflicts(with: ["user_id", "article_id"]).run()
        } else {
            try await sql.delete(from: "favorites").where("user_id", .equal, viewer).where("article_id", .equal, id).run()
        }
    }

    // MARK: Comments

    struct CommentRow {
        let id: Int
        let body: String
        let created_at: Double
        let updated_at: Double
        let author: ProfileBody

        /// Column by column, as `Row`.
        init(_ row: some SQLRow) throws {
            id = try row.decode(column: "id", as: Int.self)
            body = try row.decode(column: "body", as: String.self)
            created_at = try row.decode(column: "created_at", as: Double.self)
            updated_at = try row.decode(column: "updated_at", as: Double.self)
            author = try ArticleService.author(of: row)
        }
    }

    /// A comment with its author and whether the reader follows them, one correlated subquery on the follows key.
    static func commentColumns(viewer: Int?) -> SQLQueryString {
        let following: SQLQueryString = if let viewer {
            "EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = \(bind: viewer) AND fo.followed_id = c.author_id) AS following"
        } else {
            "FALSE AS following"
        }
        return "c.id, c.body, c.created_at, c.updated_at, u.username, u.bio, u.image, " + following
    }

    /// The article's comments, newest first, in one statement: the article is joined in, so an unknown slug (no row
    /// at all) is told apart from an article without comments (one row of NULLs).
    func comments(slug: String, viewer: Int?) async throws -> [CommentBody] {
        guard slug.utf8.count <= 300 else { throw Self.articleNotFound }
        let rows = try await sql.raw("""
            SELECT \(Self.commentColumns(viewer: viewer))
            FROM articles a LEFT JOIN comments c ON c.article_id = a.id LEFT JOIN users u ON u.id = c.author_id
            WHERE a.slug = \(bind: slug) ORDER BY c.created_at DESC, c.id DESC
            """).all()
        guard !rows.isEmpty else { throw Self.articleNotFound }
        return try rows.compactMap { row in
            try row.decodeNil(column: "id") ? nil : Self.present(try CommentRow(row))
        }
    }

    func addComment(slug: String, input: JSONInput, by viewer: Int) async throws -> CommentBody {
        let (articleID, _) = try await owner(slug: slug)
        var problems = ValidationProblems()
        let body = input.string("body", problems: &problems, required: true)
        if let body, body.utf8.count > 100_000 { problems.add("body", "is too long (maximum is 100000 characters)") }
        try problems.throwIfAny()
        let now = app.clock().timeIntervalSince1970
        guard let inserted = try await sql.raw("""
            INSERT INTO comments (article_id, author_id, body, created_at, updated_at)
            VALUES (\(bind: articleID), \(bind: viewer), \(bind: body!), \(bind: now), \(bind: now)) RETURNING id
            """).first(decoding: IDRow.self),
            let row = try await sql.raw("""
                SELECT \(Self.commentColumns(viewer: viewer)) FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = \(bind: inserted.id)
                """).first().map({ try CommentRow($0) })
        else { throw KeelError(.internalServerError) }
        return Self.present(row)
    }

    func deleteComment(slug: String, id: Int, by viewer: Int) async throws {
        let (articleID, _) = try await owner(slug: slug)
        struct Owner: Decodable { let author_id: Int }
        guard let comment = try await sql.raw("SELECT author_id FROM comments WHERE id = \(bind: id) AND article_id = \(bind: articleID)")
            .first(decoding: Owner.self) else { throw Self.commentNotFound }
        guard comment.author_id == viewer else { throw KeelError(.forbidden, messages: ["comment": ["forbidden"]]) }
        try await sql.delete(from: "comments").where("id", .equal, id).run()
    }

    static func present(_ row: CommentRow) -> CommentBody {
        CommentBody(id: row.id, createdAt: UTCTimestamp.string(secondsSince1970: row.created_at), updatedAt: UTCTimestamp.string(secondsSince1970: row.updated_at), body: row.body,
                    author: row.author)
    }

    // MARK: Helpers

    struct Count: Decodable { let n: Int }
    struct IDRow: Decodable { let id: Int }

    func owner(slug: String) async throws -> (id: Int, author: Int) {
        struct Owner: Decodable {
            let id: Int
            let author_id: Int
        }
        guard slug.utf8.count <= 300,
              let row = try await sql.raw("SELECT id, author_id FROM articles WHERE slug = \(bind: slug)").first(decoding: Owner.self)
        else { throw Self.articleNotFound }
        return (row.id, row.author_id)
    }

    static func check(title: String?, description: String?, body: String?, problems: inout ValidationProblems) {
        if let title, title.count > 300 { problems.add("title", "is too long (maximum is 300 characters)") }
        if let description, description.count > 1000 { problems.add("description", "is too long (maximum is 1000 characters)") }
        if let body, body.utf8.count > 500_000 { problems.add("body", "is too long (maximum is 500000 bytes)") }
    }

    /// Trimmed, non-empty, distinct (in the order given), at most 20 of at most 50 characters.
    static func normalize(tags: [String], problems: inout ValidationProblems) -> [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for tag in tags {
            let name = tag.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, !seen.contains(name) else { continue }
            if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.add("tagList", "has a tag with control characters")
            }
            if name.count > 50 { problems.add("tagList", "has a tag longer than 50 characters") }
            seen.insert(name)
            result.append(name)
        }
        if result.count > 20 { problems.add("tagList", "has more than 20 tags") }
        return result
    }

    /// `How to Train Your Dragon` → `how-to-train-your-dragon-k3x9qa`: readable, with a random suffix so it is unique.
    ///
    /// Unicode slugs, like Django's `slugify(value, allow_unicode=True)`: the title is NFKC-normalized (so `ﬁ` is `fi`
    /// and full-width digits are digits) and lower-cased; letters and digits of any script stay, every run of anything
    /// else becomes one dash. `Ünïcødé 标题` → `ünïcødé-标题-k3x9qa`. Clients send such a slug percent-encoded in the
    /// path; Keel decodes path parameters before the lookup. Dropping non-ASCII letters instead (Django's default)
    /// would leave a Chinese or Greek title with nothing but the random suffix.
    static func slug(for title: String) -> String {
        var slug = ""
        var lastWasDash = true
        for scalar in title.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal {
                slug.unicodeScalars.append(scalar)
                lastWasDash = false
            } else if !lastWasDash {
                slug.append("-")
                lastWasDash = true
            }
            if slug.count >= 80 { break }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let suffix = String((0..<6).map { _ in alphabet.randomElement()! })
        return slug.isEmpty ? suffix : "\(slug)-\(suffix)"
    }
}

/// RealWorld timestamps: ISO 8601 in UTC with milliseconds (`2016-02-18T03:22:56.637Z`).
