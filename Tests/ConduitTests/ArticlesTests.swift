import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import SQLKit
import KeelTesting
import Testing

/// Creates an article and returns its slug.
func createArticle(_ client: any TestClientProtocol, _ token: String, title: String, tags: [String] = []) async throws -> String {
    try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(token),
                             body: body(["article": ["title": title, "description": "About \(title)", "body": "Body of \(title)", "tagList": tags]])) { response in
        guard response.status == .created, let slug = (json(response.body)["article"] as? [String: Any])?["slug"] as? String else {
            throw KeelError(.internalServerError, message: "create failed: \(response.status) \(String(buffer: response.body))")
        }
        return slug
    }
}

@Suite struct ArticlesTests {
    @Test(arguments: TestDatabase.available)
    func createReadUpdateAndDelete(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                let other = try await register(client, "other")
                let slug = try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake), body: body(["article": [
                    "title": "How to train your dragon", "description": "Ever wonder how?", "body": "You have to believe",
                    "tagList": ["reactjs", " angularjs ", "dragons", "reactjs", ""], "slug": "forced", "favoritesCount": 99, "author": "other",
                ]])) { response in
                    #expect(response.status == .created)
                    let article = try #require(json(response.body)["article"] as? [String: Any])
                    #expect(article["title"] as? String == "How to train your dragon")
                    #expect(article["body"] as? String == "You have to believe")
                    #expect(article["tagList"] as? [String] == ["angularjs", "dragons", "reactjs"])  // trimmed, distinct, sorted
                    #expect(article["favorited"] as? Bool == false)
                    #expect(article["favoritesCount"] as? Int == 0)
                    #expect((article["author"] as? [String: Any])?["username"] as? String == "jake")
                    let created = try #require(article["createdAt"] as? String)
                    #expect(created.hasSuffix("Z") && created.contains("T") && created.contains("."))
                    let slug = try #require(article["slug"] as? String)
                    #expect(slug.hasPrefix("how-to-train-your-dragon-"))
                    return slug
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["article"] as? [String: Any])?["body"] as? String == "You have to believe")
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .put, headers: tokenHeaders(other),
                                         body: body(["article": ["body": "hijacked"]])) { #expect($0.status == .forbidden) }
                let renamed = try await client.execute(uri: "/api/articles/\(slug)", method: .put, headers: tokenHeaders(jake),
                                                       body: body(["article": ["title": "Dragons, again", "body": "New body"]])) { response in
                    #expect(response.status == .ok)
                    let article = try #require(json(response.body)["article"] as? [String: Any])
                    #expect(article["body"] as? String == "New body")
                    #expect(article["description"] as? String == "Ever wonder how?")
                    return try #require(article["slug"] as? String)
                }
                #expect(renamed.hasPrefix("dragons-again-"))
                try await client.execute(uri: "/api/articles/\(renamed)", method: .delete, headers: tokenHeaders(other)) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/api/articles/\(renamed)", method: .delete, headers: tokenHeaders(jake)) { #expect($0.status == .noContent) }
                try await client.execute(uri: "/api/articles/\(renamed)", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect((json(response.body)["errors"] as? [String: [String]])?["article"] == ["not found"])
                }
                try await client.execute(uri: "/api/articles", method: .post, headers: jsonHeaders, body: body(["article": ["title": "x"]])) {
                    #expect($0.status == .unauthorized)
                }
                try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake),
                                         body: body(["article": ["title": "", "tagList": "not-a-list"]])) { response in
                    #expect(response.status == .unprocessableContent)
                    let errors = try #require(json(response.body)["errors"] as? [String: [String]])
                    #expect(errors["title"] == ["can't be blank"])
                    #expect(errors["description"] == ["can't be blank"])
                    #expect(errors["body"] == ["can't be blank"])
                    #expect(errors["tagList"] == ["must be a list of strings"])
                }
                // Tags travel joined by U+001F inside the list query, so no tag may contain a control character.
                try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake),
                                         body: body(["article": ["title": "T", "description": "D", "body": "B", "tagList": ["a\u{1F}b"]]])) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect((json(response.body)["errors"] as? [String: [String]])?["tagList"] == ["has a tag with control characters"])
                }
                // The most tags an article may have, saved in a fixed number of statements (the test profile fails
                // an N+1 with a 500) and read back sorted: BEGIN, the article, its tags, its links, its audit entry
                // (one statement, in the same transaction), COMMIT, then the read.
                let many = (0..<20).map { "tag-\(19 - $0)" }
                let (_, stats) = try await expectQueries(atMost: 7) {
                    try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake),
                                             body: body(["article": ["title": "Many", "description": "D", "body": "B", "tagList": many]])) { response in
                        #expect(response.status == .created)
                        #expect((json(response.body)["article"] as? [String: Any])?["tagList"] as? [String] == many.sorted())
                    }
                }
                #expect(stats.count <= 7)
                #expect(stats.fingerprints.filter { $0.fingerprint.contains("keel_audit_pending") }.map(\.count) == [1])
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func tagNamesOnTheArticleAreBackfilledRolledBackAndKeptWithTheLinks(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            // An article written before `articles.tag_names` existed: roll back, write it the old way, migrate again.
            try await app.keel.migrator.migrate(to: .named("articles.0001_create_articles"))
            let sql = app.keel.database.sql
            try await sql.raw("INSERT INTO users (username, email, password_hash, created_at, updated_at) VALUES ('old', 'old@example.com', 'x', 0, 0)").run()
            try await sql.raw("""
                INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)
                SELECT 'old-one', 'Old', 'd', 'b', id, 0, 0 FROM users WHERE username = 'old'
                """).run()
            try await sql.raw("INSERT INTO tags (name) VALUES ('zeta'), ('alpha')").run()
            try await sql.raw("""
                INSERT INTO article_tags (article_id, tag_id, position)
                SELECT a.id, t.id, CASE t.name WHEN 'zeta' THEN 0 ELSE 1 END FROM articles a, tags t
                """).run()
            try await app.keel.migrator.migrate()
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/api/articles/old-one", method: .get) { response in
                    #expect(response.status == .ok)
                    // Backfilled in position order by articles.0002, then sorted by articles.0003.
                    #expect((json(response.body)["article"] as? [String: Any])?["tagList"] as? [String] == ["alpha", "zeta"])
                }
                let jake = try await register(client, "jake")
                for (title, tags) in [("First", ["alpha", "beta"]), ("Second", [String]())] {
                    try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake), body: body(["article": [
                        "title": title, "description": "d", "body": "b", "tagList": tags,
                    ]])) { #expect($0.status == .created) }
                }
                try await client.execute(uri: "/api/articles", method: .get) { response in
                    let articles = (json(response.body)["articles"] as? [[String: Any]]) ?? []
                    #expect(articles.map { $0["title"] as? String } == ["Second", "First", "Old"])
                    #expect(articles.map { $0["tagList"] as? [String] } == [[], ["alpha", "beta"], ["alpha", "zeta"]])
                }
                // The links are still the truth for filtering and the tag list.
                try await client.execute(uri: "/api/articles?tag=alpha", method: .get) { response in
                    #expect(json(response.body)["articlesCount"] as? Int == 2)
                }
                try await client.execute(uri: "/api/tags", method: .get) { response in
                    #expect(json(response.body)["tags"] as? [String] == ["alpha", "beta", "zeta"])
                }
            }
            // And the column goes away again when rolled back.
            try await app.keel.migrator.migrate(to: .named("articles.0001_create_articles"))
            await #expect(throws: (any Error).self) { try await sql.raw("SELECT tag_names FROM articles").run() }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func listsFilterPaginateAndFlagForTheReader(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                let jane = try await register(client, "jane")
                var janeSlugs: [String] = []
                for index in 0..<3 { janeSlugs.append(try await createArticle(client, jane, title: "Jane \(index)", tags: ["swift", "t\(index)"])) }
                _ = try await createArticle(client, jake, title: "Jake's", tags: ["rust"])
                try await client.execute(uri: "/api/articles/\(janeSlugs[0])/favorite", method: .post, headers: tokenHeaders(jake)) { response in
                    let article = try #require(json(response.body)["article"] as? [String: Any])
                    #expect(article["favorited"] as? Bool == true)
                    #expect(article["favoritesCount"] as? Int == 1)
                }
                try await client.execute(uri: "/api/profiles/jane/follow", method: .post, headers: tokenHeaders(jake)) { #expect($0.status == .ok) }

                try await client.execute(uri: "/api/articles", method: .get) { response in
                    let list = json(response.body)
                    #expect(list["articlesCount"] as? Int == 4)
                    let articles = try #require(list["articles"] as? [[String: Any]])
                    #expect(articles.map { $0["title"] as? String } == ["Jake's", "Jane 2", "Jane 1", "Jane 0"])
                    #expect(articles.allSatisfy { $0["body"] == nil })
                    #expect(articles.allSatisfy { $0["favorited"] as? Bool == false })
                }
                try await client.execute(uri: "/api/articles?tag=swift&limit=2&offset=1", method: .get, headers: tokenHeaders(jake)) { response in
                    let list = json(response.body)
                    #expect(list["articlesCount"] as? Int == 3)
                    let articles = try #require(list["articles"] as? [[String: Any]])
                    #expect(articles.map { $0["title"] as? String } == ["Jane 1", "Jane 0"])
                    #expect(articles.map { $0["favorited"] as? Bool } == [false, true])
                    #expect(articles.allSatisfy { ($0["author"] as? [String: Any])?["following"] as? Bool == true })
                    #expect(articles.last?["tagList"] as? [String] == ["swift", "t0"])
                }
                // A page past the end, or of no rows, still reports the total.
                for query in ["offset=10", "limit=0", "tag=swift&offset=3"] {
                    try await client.execute(uri: "/api/articles?\(query)", method: .get) { response in
                        let list = json(response.body)
                        #expect((list["articles"] as? [[String: Any]])?.isEmpty == true, "\(query)")
                        #expect(list["articlesCount"] as? Int == (query.hasPrefix("tag") ? 3 : 4), "\(query)")
                    }
                }
                for (query, count) in [("author=jake", 1), ("favorited=jake", 1), ("author=nobody", 0), ("tag=nothing", 0)] {
                    try await client.execute(uri: "/api/articles?\(query)", method: .get) { #expect(json($0.body)["articlesCount"] as? Int == count, "\(query)") }
                }
                try await client.execute(uri: "/api/articles/feed", method: .get, headers: tokenHeaders(jake)) { response in
                    let list = json(response.body)
                    #expect(list["articlesCount"] as? Int == 3)
                    #expect((list["articles"] as? [[String: Any]])?.allSatisfy { ($0["author"] as? [String: Any])?["username"] as? String == "jane" } == true)
                }
                try await client.execute(uri: "/api/articles/feed", method: .get) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/api/tags", method: .get) { response in
                    #expect(json(response.body)["tags"] as? [String] == ["rust", "swift", "t0", "t1", "t2"])
                }
                try await client.execute(uri: "/api/articles/\(janeSlugs[0])/favorite", method: .delete, headers: tokenHeaders(jake)) { response in
                    #expect((json(response.body)["article"] as? [String: Any])?["favoritesCount"] as? Int == 0)
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func hostileQueryParametersAre422sNever500s() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                for query in ["limit=-1", "limit=abc", "offset=-5", "offset=1e9999", "limit=99999999999999999999"] {
                    try await client.execute(uri: "/api/articles?\(query)", method: .get) { response in
                        #expect(response.status == .unprocessableContent, "\(query)")
                    }
                }
                for query in ["limit=100000", "tag=%27%20OR%201%3D1%20--", "author=%00", "favorited=" + String(repeating: "x", count: 3000), "tag=%F0%9F%90%89"] {
                    try await client.execute(uri: "/api/articles?\(query)", method: .get) { response in
                        #expect(response.status == .ok, "\(query)")
                        #expect(json(response.body)["articlesCount"] as? Int == 0)
                    }
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func commentsCanBeAddedListedAndDeletedByTheirAuthorOnly(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                let jane = try await register(client, "jane")
                let slug = try await createArticle(client, jake, title: "Commented")
                let id = try await client.execute(uri: "/api/articles/\(slug)/comments", method: .post, headers: tokenHeaders(jane),
                                                  body: body(["comment": ["body": "Thank you so much!"]])) { response in
                    #expect(response.status == .ok)
                    let comment = try #require(json(response.body)["comment"] as? [String: Any])
                    #expect(comment["body"] as? String == "Thank you so much!")
                    #expect((comment["author"] as? [String: Any])?["username"] as? String == "jane")
                    return try #require(comment["id"] as? Int)
                }
                try await client.execute(uri: "/api/articles/\(slug)/comments", method: .get) { response in
                    #expect((json(response.body)["comments"] as? [[String: Any]])?.count == 1)
                }
                try await client.execute(uri: "/api/articles/\(slug)/comments/\(id)", method: .delete, headers: tokenHeaders(jake)) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/articles/\(slug)/comments/9999", method: .delete, headers: tokenHeaders(jane)) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/articles/\(slug)/comments/abc", method: .delete, headers: tokenHeaders(jane)) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/articles/\(slug)/comments/\(id)", method: .delete, headers: tokenHeaders(jane)) {
                    #expect($0.status == .noContent)
                }
                // An article without comments answers an empty list, not a 404.
                try await client.execute(uri: "/api/articles/\(slug)/comments", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["comments"] as? [[String: Any]])?.isEmpty == true)
                }
                // The reader's `following` flag comes with the comments, in one statement.
                try await client.execute(uri: "/api/articles/\(slug)/comments", method: .post, headers: tokenHeaders(jane),
                                         body: body(["comment": ["body": "Again"]])) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/profiles/jane/follow", method: .post, headers: tokenHeaders(jake)) { #expect($0.status == .ok) }
                _ = try await expectQueries(atMost: 1) {
                    try await client.execute(uri: "/api/articles/\(slug)/comments", method: .get, headers: tokenHeaders(jake)) { response in
                        let comments = try #require(json(response.body)["comments"] as? [[String: Any]])
                        #expect(comments.count == 1)
                        #expect((comments.first?["author"] as? [String: Any])?["following"] as? Bool == true)
                    }
                }
                try await client.execute(uri: "/api/articles/\(slug)/comments", method: .post, headers: tokenHeaders(jane),
                                         body: body(["comment": ["body": "   "]])) { #expect($0.status == .unprocessableContent) }
                try await client.execute(uri: "/api/articles/missing/comments", method: .get) { #expect($0.status == .notFound) }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func listsCostAConstantNumberOfQueriesWhateverThePageSize(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                var authors: [String] = []
                for index in 0..<4 { authors.append(try await register(client, "author\(index)")) }
                for (index, token) in authors.enumerated() {
                    for article in 0..<5 { _ = try await createArticle(client, token, title: "A\(index)-\(article)", tags: ["t\(article)", "all"]) }
                    try await client.execute(uri: "/api/profiles/author\(index)/follow", method: .post, headers: tokenHeaders(jake)) { _ in }
                }
                var counts: Set<Int> = []
                for limit in [1, 5, 20] {
                    for headers in [jsonHeaders, tokenHeaders(jake)] {
                        for path in ["/api/articles?limit=\(limit)", "/api/articles?tag=all&limit=\(limit)"] {
                            let (_, stats) = try await expectQueries(atMost: 1) {
                                try await client.execute(uri: path, method: .get, headers: headers) { #expect($0.status == .ok) }
                            }
                            counts.insert(stats.count)
                        }
                    }
                    let (_, feed) = try await expectQueries(atMost: 1) {
                        try await client.execute(uri: "/api/articles/feed?limit=\(limit)", method: .get, headers: tokenHeaders(jake)) { #expect($0.status == .ok) }
                    }
                    counts.insert(feed.count)
                }
                #expect(counts == [1])  // one statement: the page with its total, authors, tags, counts and the reader's flags
            }
            await app.keel.database.shutdown()
        }
    }
}
