import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct ConduitCacheTests {
    /// Anonymous reads come from the cache (`Age`), and every write through the API makes what it changed fresh
    /// again at once: a new article in the list and the tags, a favorite's count, an edited author's name, a comment.
    /// A reader with a token never gets the shared copy.
    @Test(arguments: TestDatabase.available)
    func anonymousReadsAreCachedAndWritesRefreshThem(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let token = try await register(client, "writer")
                func list() async throws -> (articles: [[String: Any]], age: String?) {
                    let response = try await client.execute(uri: "/api/articles", method: .get)
                    return ((json(response.body)["articles"] as? [[String: Any]]) ?? [], response.headers[.age])
                }
                #expect(try await list().articles.isEmpty)
                let cached = try await list()
                #expect(cached.age != nil, "the second read came from the cache")

                let created = try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(token), body: body([
                    "article": ["title": "Fresh", "description": "d", "body": "b", "tagList": ["news"]],
                ]))
                #expect(created.status == .created)
                let slug = try #require((json(created.body)["article"] as? [String: Any])?["slug"] as? String)
                let afterCreate = try await list()
                #expect(afterCreate.articles.map { $0["title"] as? String } == ["Fresh"] && afterCreate.age == nil, "the write purged the list")
                let tags = try await client.execute(uri: "/api/tags", method: .get)
                #expect(json(tags.body)["tags"] as? [String] == ["news"])

                _ = try await list()
                _ = try await client.execute(uri: "/api/articles/\(slug)/favorite", method: .post, headers: tokenHeaders(token))
                #expect(try await list().articles.first?["favoritesCount"] as? Int == 1, "the favorite purged it")

                _ = try await client.execute(uri: "/api/user", method: .put, headers: tokenHeaders(token), body: body(["user": ["username": "renamed"]]))
                let author = try await list().articles.first?["author"] as? [String: Any]
                #expect(author?["username"] as? String == "renamed", "the author's new name purged it")

                _ = try await client.execute(uri: "/api/articles/\(slug)/comments", method: .get)
                _ = try await client.execute(uri: "/api/articles/\(slug)/comments", method: .post, headers: tokenHeaders(token),
                                             body: body(["comment": ["body": "First!"]]))
                let comments = try await client.execute(uri: "/api/articles/\(slug)/comments", method: .get)
                #expect((json(comments.body)["comments"] as? [[String: Any]])?.count == 1)

                // With a token: straight to the handler, private, and the reader's own flags.
                let mine = try await client.execute(uri: "/api/articles", method: .get, headers: tokenHeaders(token))
                #expect(mine.headers[.age] == nil && mine.headers[.cacheControl] == "private, no-cache")
                #expect((json(mine.body)["articles"] as? [[String: Any]])?.first?["favorited"] as? Bool == true)
                #expect(try await list().articles.first?["favorited"] as? Bool == false)
            }
            await app.keel.database.shutdown()
        }
    }

    /// The home page for someone signed out is stored (public for 5 s at a proxy, varying by cookie); a signed-in
    /// visitor's is private and never stored.
    @Test func theAnonymousHomePageIsCached() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            let first = try await client.execute(uri: "/", method: .get)
            #expect(first.status == .ok && first.headers[.setCookie] == nil)
            let second = try await client.execute(uri: "/", method: .get)
            #expect(second.headers[.age] != nil)
            #expect(second.headers[.cacheControl] == "public, max-age=0, s-maxage=5")
            #expect(second.headers[values: .vary].contains("Cookie"))
            #expect(String(buffer: second.body) == String(buffer: first.body).replacingOccurrences(
                of: cspNonce(first) ?? "-", with: cspNonce(second) ?? "-"), "the same page, with this answer's nonce")
        }
        await app.keel.database.shutdown()
    }
}

/// The nonce the response's CSP header gives.
func cspNonce(_ response: TestResponse) -> String? {
    guard let policy = response.headers[HTTPField.Name("Content-Security-Policy")!], let range = policy.range(of: "'nonce-") else { return nil }
    return String(policy[range.upperBound...].prefix { $0 != "'" })
}
