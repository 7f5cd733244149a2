import Foundation
import Keel

/// What the home page shows.
struct HomePage: Encodable {
    let signedIn: Bool
    let feed: Bool
    let tag: String?
    let articles: [ArticlePreview]
    let pages: [PageLink]
    let tags: [String]
}

/// An article in a list or at the top of its page.
struct ArticlePreview: Encodable {
    let slug: String
    let title: String
    let description: String
    let tags: [String]
    let author: String
    let authorImage: String?
    let date: String
    let favoritesCount: Int
    let favorited: Bool
    let following: Bool

    init(_ article: ArticleBody) {
        slug = article.slug
        title = article.title
        description = article.description
        tags = article.tagList
        author = article.author.username
        authorImage = article.author.image
        date = String(article.createdAt.prefix(10))
        favoritesCount = article.favoritesCount
        favorited = article.favorited
        following = article.author.following
    }
}

/// One link of the pagination.
struct PageLink: Encodable {
    let number: Int
    let current: Bool
    let href: String

    static func pages(total: Int, size: Int, current: Int, feed: Bool, tag: String?) -> [PageLink] {
        let count = (total + size - 1) / size
        guard count > 1 else { return [] }
        return (1...count).map { number in
            var query: [String] = []
            if feed { query.append("feed=you") }
            if let tag { query.append("tag=" + URLEncoding.component(tag)) }
            if number > 1 { query.append("page=\(number)") }
            return PageLink(number: number, current: number == current, href: "/" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
        }
    }
}

/// An article's own page.
struct ArticlePage: Encodable {
    let article: ArticlePreview
    /// The body's Markdown as HTML (`Markdown.html(from:)`: escaped, allowlisted tags, safe URLs only).
    let bodyHTML: String
    let comments: [CommentView]
    let signedIn: Bool
    /// The reader wrote it (no follow button for oneself).
    let mine: Bool
}

struct CommentView: Encodable {
    let id: Int
    let body: String
    let author: String
    let date: String
    /// The reader wrote it (a delete button).
    let mine: Bool

    init(_ comment: CommentBody, reader: String?) {
        id = comment.id
        body = comment.body
        author = comment.author.username
        date = String(comment.createdAt.prefix(10))
        mine = comment.author.username == reader
    }
}

/// The article editor: a new article (`slug` nil) or an existing one.
struct EditorPage: Encodable {
    let slug: String?
    let title: String?
    let description: String?
    let body: String?
    let tags: String?
    let problems: FormProblems

    init(
        slug: String? = nil, title: String? = nil, description: String? = nil, body: String? = nil, tags: String? = nil,
        problems: FormProblems = .none
    ) {
        self.slug = slug
        self.title = title
        self.description = description
        self.body = body
        self.tags = tags
        self.problems = problems
    }
}

/// A user's page: their articles, or the ones they favorited.
struct ProfilePage: Encodable {
    let username: String
    let bio: String?
    let image: String?
    let following: Bool
    /// The reader is this user.
    let mine: Bool
    let signedIn: Bool
    let favoritedTab: Bool
    let articles: [ArticlePreview]
}

struct SignInPage: Encodable {
    let email: String?
    let next: String?
    /// "email or password is invalid".
    let problems: FormProblems
}

struct SignUpPage: Encodable {
    let username: String?
    let email: String?
    let problems: FormProblems
}

/// The signed-in user's settings.
struct SettingsPage: Encodable {
    let username: String?
    let email: String?
    let bio: String?
    let image: String?
    let problems: FormProblems

    init(username: String?, email: String?, bio: String?, image: String?, problems: FormProblems = .none) {
        self.username = username
        self.email = email
        self.bio = bio
        self.image = image
        self.problems = problems
    }
}
