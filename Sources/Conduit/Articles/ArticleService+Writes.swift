import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// Writing articles: create, update, delete, favorite.
extension ArticleService {
    func create(_ input: some FieldInput, author: Int) async throws -> String {
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

    func update(slug: String, with input: some FieldInput, by viewer: Int) async throws -> String {
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
        guard try await app.access.allows(userID: String(viewer), Self.mayDelete, on: Owned(id: id, authorID: author)) else { throw Self.forbidden }
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
}
