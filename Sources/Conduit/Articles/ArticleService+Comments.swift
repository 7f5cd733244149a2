import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// Comments: list, add, delete.
extension ArticleService {
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

    func addComment(slug: String, input: some FieldInput, by viewer: Int) async throws -> CommentBody {
        let (articleID, _) = try await owner(slug: slug)
        var problems = ValidationProblems()
        let body = input.string("body", problems: &problems, required: true)
        if let body, TextRules.length(body) > 100_000 { problems.add("body", "is too long (maximum is 100000 characters)") }
        try problems.throwIfAny()
        let now = app.clock().timeIntervalSince1970
        let inserted = try await app.database.write { tx in
            try await tx.insert(into: "comments", ["article_id": articleID, "author_id": viewer, "body": body!, "created_at": now, "updated_at": now])
        }
        guard let commentID = inserted?.integer("id"),
            let row = try await sql.raw("""
                SELECT \(Self.commentColumns(viewer: viewer)) FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = \(bind: commentID)
                """).first().map({ try CommentRow($0) })
        else { throw KeelError(.internalServerError) }
        return Self.present(row)
    }

    func deleteComment(slug: String, id: Int, by viewer: Int) async throws {
        let (articleID, _) = try await owner(slug: slug)
        struct Owner: Decodable { let author_id: Int }
        guard let comment = try await sql.raw("SELECT author_id FROM comments WHERE id = \(bind: id) AND article_id = \(bind: articleID)")
            .first(decoding: Owner.self) else { throw Self.commentNotFound }
        guard try await app.access.allows(userID: String(viewer), Self.mayDeleteComment, on: Owned(id: id, authorID: comment.author_id)) else {
            throw KeelError(.forbidden, messages: ["comment": ["forbidden"]])
        }
        try await app.database.write { tx in try await tx.delete(from: "comments", where: RowFilter("id", .equal, id)) }
    }

    static func present(_ row: CommentRow) -> CommentBody {
        CommentBody(id: row.id, createdAt: UTCTimestamp.string(secondsSince1970: row.created_at), updatedAt: UTCTimestamp.string(secondsSince1970: row.updated_at), body: row.body,
                    author: row.author)
    }
}
