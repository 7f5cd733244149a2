import Foundation

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
