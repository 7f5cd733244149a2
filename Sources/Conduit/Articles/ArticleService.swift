import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// Articles' reads and writes, split by concern: `+Queries` (list, one article, tags), `+Writes` (create, update,
/// delete, favorite), `+Comments`, `+Input` (validation, tag normalization), `+Slugs`, and `+ReadModel` (the author
/// columns read from Accounts' and Profiles' tables, and why).
struct ArticleService: Sendable {
    let app: KeelApplication
    var sql: any SQLDatabase { app.database.sql }

    static var articleNotFound: KeelError { KeelError(.notFound, messages: ["article": ["not found"]]) }
    static var commentNotFound: KeelError { KeelError(.notFound, messages: ["comment": ["not found"]]) }
    static var forbidden: KeelError { KeelError(.forbidden, messages: ["article": ["forbidden"]]) }

    /// An article or a comment, as its access policies see it.
    struct Owned: Sendable {
        let id: Int
        let authorID: Int
    }

    /// Its author, or a moderator holding `articles.delete_article` (docs/permissions.md).
    static let mayDelete = AccessPolicy<Owned>.owner { String($0.authorID) }.or(.permission("articles.delete_article"))
    /// Its author, or a moderator holding `articles.delete_comment`.
    static let mayDeleteComment = AccessPolicy<Owned>.owner { String($0.authorID) }.or(.permission("articles.delete_comment"))

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

        /// Column by column rather than through `Decodable`: SQLKit's row decoder wraps every column in a keyed
        /// container and checks each optional's presence first, which was a sixth of an article page's CPU.
        init(_ row: some SQLRow) throws {
            slug = try row.decode(column: "slug", as: String.self)
            title = try row.decode(column: "title", as: String.self)
            description = try row.decode(column: "description", as: String.self)
            body = try row.decodeIfPresent(column: "body", as: String.self)
            created_at = try row.decode(column: "created_at", as: Double.self)
            updated_at = try row.decode(column: "updated_at", as: Double.self)
            author = try ArticleService.author(of: row)
            favorites_count = try row.decode(column: "favorites_count", as: Int.self)
            tagList = ArticleService.tagList(try row.decodeIfPresent(column: "tag_names", as: String.self))
            favorited = try row.decode(column: "favorited", as: Bool.self)
        }
    }

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
}
