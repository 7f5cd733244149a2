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
        try await app.database.write { tx in
            let sql = tx.sql
            // The names ride on the article too (`articles.tag_names`), so reading an article needs no join.
            guard let articleID = try await tx.insert(into: "articles", [
                "slug": slug, "title": title!, "description": description!, "body": body!, "author_id": author, "created_at": now,
                "updated_at": now, "tag_names": Self.joinedTagNames(tags),
            ])?.integer("id") else { throw KeelError(.internalServerError) }
            guard !tags.isEmpty else { return }
            // Two statements whatever the number of tags: new names in one insert, then every link with its position.
            let names = tags.map { "(\(bind: $0))" as SQLQueryString }.joined(separator: ", ")
            try await sql.raw("INSERT INTO tags (name) VALUES " + names + " ON CONFLICT (name) DO NOTHING").run()
            let positions = tags.enumerated().map { "WHEN \(bind: $0.element) THEN \(bind: $0.offset)" as SQLQueryString }.joined(separator: " ")
            try await sql.raw("""
                INSERT INTO article_tags (article_id, tag_id, position)
                SELECT \(bind: articleID), t.id, CASE t.name \(positions) END FROM tags t WHERE t.name IN (\(binds: tags))
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
        var values: [String: any Encodable & Sendable] = ["updated_at": app.clock().timeIntervalSince1970]
        if let title {
            newSlug = Self.slug(for: title)
            values["title"] = title
            values["slug"] = newSlug
        }
        if let description { values["description"] = description }
        if let body { values["body"] = body }
        try await app.database.write { [values] tx in try await tx.update("articles", set: values, where: RowFilter("id", .equal, id)) }
        return newSlug
    }

    func delete(slug: String, by viewer: Int) async throws {
        let (id, author) = try await owner(slug: slug)
        guard try await app.access.allows(userID: String(viewer), Self.mayDelete, on: Owned(id: id, authorID: author)) else { throw Self.forbidden }
        try await app.database.write { tx in try await tx.delete(from: "articles", where: RowFilter("id", .equal, id)) }
    }

    func favorite(slug: String, by viewer: Int, on: Bool) async throws {
        let (id, _) = try await owner(slug: slug)
        try await app.database.write { tx in
            if on {
                try await tx.insert(into: "favorites", ["user_id": viewer, "article_id": id], ignoringConflictsOn: ["user_id", "article_id"])
            } else {
                try await tx.delete(from: "favorites", where: RowFilter("user_id", .equal, viewer).and("article_id", .equal, id))
            }
        }
    }
}
