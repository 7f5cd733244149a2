import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// Percent-encodes every byte outside the unreserved set, as a client puts a name into a path.
func pathEncoded(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"))!
}

/// Non-ASCII names in paths (usernames, slugs, tags) and the order of `tagList`, through HTTP.
@Suite struct UnicodeAndTagOrderTests {
    @Test(arguments: TestDatabase.available)
    func nonASCIIUsernamesSlugsAndTagsWorkPercentEncoded(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let name = "Jürgen名前"
                let jurgen = try await register(client, name)
                let reader = try await register(client, "reader")
                let profileURI = "/api/profiles/\(pathEncoded(name))"
                #expect(profileURI == "/api/profiles/J%C3%BCrgen%E5%90%8D%E5%89%8D")
                try await client.execute(uri: profileURI, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["profile"] as? [String: Any])?["username"] as? String == name)
                }
                try await client.execute(uri: profileURI + "/follow", method: .post, headers: tokenHeaders(reader)) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["profile"] as? [String: Any])?["following"] as? Bool == true)
                }
                try await client.execute(uri: profileURI + "/follow", method: .delete, headers: tokenHeaders(reader)) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["profile"] as? [String: Any])?["following"] as? Bool == false)
                }

                // Slugs keep letters of every script (Django's allow_unicode), after NFKC: "ﬁ" is "fi".
                let slug = try await createArticle(client, jurgen, title: "Ünïcødé 标题 ﬁne", tags: ["标签", "ünï"])
                #expect(slug.hasPrefix("ünïcødé-标题-fine-"), "\(slug)")
                let articleURI = "/api/articles/\(pathEncoded(slug))"
                try await client.execute(uri: articleURI, method: .get) { response in
                    #expect(response.status == .ok)
                    let article = try #require(json(response.body)["article"] as? [String: Any])
                    #expect(article["slug"] as? String == slug)
                    #expect(article["tagList"] as? [String] == ["ünï", "标签"])
                }
                try await client.execute(uri: articleURI + "/favorite", method: .post, headers: tokenHeaders(reader)) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["article"] as? [String: Any])?["favoritesCount"] as? Int == 1)
                }
                try await client.execute(uri: articleURI + "/favorite", method: .delete, headers: tokenHeaders(reader)) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["article"] as? [String: Any])?["favorited"] as? Bool == false)
                }
                let commentID = try await client.execute(uri: articleURI + "/comments", method: .post, headers: tokenHeaders(reader),
                                                         body: body(["comment": ["body": "schön"]])) { response in
                    #expect(response.status == .ok)
                    return try #require((json(response.body)["comment"] as? [String: Any])?["id"] as? Int)
                }
                try await client.execute(uri: articleURI + "/comments", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["comments"] as? [[String: Any]])?.map { $0["body"] as? String } == ["schön"])
                }
                try await client.execute(uri: articleURI + "/comments/\(commentID)", method: .delete, headers: tokenHeaders(reader)) {
                    #expect($0.status == .noContent)
                }
                // Filters are query parameters, decoded by Hummingbird already; they find the same rows.
                for query in ["tag=\(pathEncoded("标签"))", "author=\(pathEncoded(name))"] {
                    try await client.execute(uri: "/api/articles?\(query)", method: .get) { response in
                        #expect(json(response.body)["articlesCount"] as? Int == 1, "\(query)")
                    }
                }
                // An encoded ASCII character is the same name as the plain one.
                try await client.execute(uri: "/api/profiles/%72eader", method: .get) { response in
                    #expect((json(response.body)["profile"] as? [String: Any])?["username"] as? String == "reader")
                }
                try await client.execute(uri: articleURI, method: .delete, headers: tokenHeaders(jurgen)) { #expect($0.status == .noContent) }
                try await client.execute(uri: articleURI, method: .get) { #expect($0.status == .notFound) }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func malformedEscapesInAPathAre400() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                // A bad escape, a truncated one, and bytes that are not UTF-8 (a lone continuation byte, an overlong form).
                for uri in ["/api/profiles/%ZZ", "/api/profiles/abc%", "/api/profiles/%C3", "/api/articles/%80", "/api/articles/%C0%AF/comments"] {
                    try await client.execute(uri: uri, method: .get) { response in
                        #expect(response.status == .badRequest, "\(uri)")
                        #expect(json(response.body)["code"] as? String == "http.bad_path", "\(uri)")
                    }
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func tagListsAreSortedEverywhereAnArticleIsPresented(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                let reader = try await register(client, "reader")
                // RealWorld's Postman collection: ["training", "dragons"] comes back as ["dragons", "training"].
                let slug = try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake), body: body(["article": [
                    "title": "How to train your dragon", "description": "Ever wonder how?", "body": "You have to believe",
                    "tagList": ["training", "dragons"],
                ]])) { response in
                    #expect(response.status == .created)
                    let article = try #require(json(response.body)["article"] as? [String: Any])
                    #expect(article["tagList"] as? [String] == ["dragons", "training"])
                    return try #require(article["slug"] as? String)
                }
                try await client.execute(uri: "/api/profiles/jake/follow", method: .post, headers: tokenHeaders(reader)) { #expect($0.status == .ok) }
                let sorted = ["dragons", "training"]
                try await client.execute(uri: "/api/articles/\(slug)", method: .get) {
                    #expect((json($0.body)["article"] as? [String: Any])?["tagList"] as? [String] == sorted)
                }
                try await client.execute(uri: "/api/articles", method: .get) {
                    #expect((json($0.body)["articles"] as? [[String: Any]])?.first?["tagList"] as? [String] == sorted)
                }
                try await client.execute(uri: "/api/articles/feed", method: .get, headers: tokenHeaders(reader)) {
                    #expect((json($0.body)["articles"] as? [[String: Any]])?.first?["tagList"] as? [String] == sorted)
                }
                try await client.execute(uri: "/api/articles/\(slug)/favorite", method: .post, headers: tokenHeaders(reader)) {
                    #expect((json($0.body)["article"] as? [String: Any])?["tagList"] as? [String] == sorted)
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .put, headers: tokenHeaders(jake),
                                         body: body(["article": ["body": "Edited"]])) {
                    #expect((json($0.body)["article"] as? [String: Any])?["tagList"] as? [String] == sorted)
                }
                // Upper case sorts before lower case, and accented letters after ASCII: code point order, as /api/tags.
                let mixed = try await createArticle(client, jake, title: "Mixed", tags: ["éclair", "zebra", "Apple", "apple"])
                try await client.execute(uri: "/api/articles/\(mixed)", method: .get) {
                    #expect((json($0.body)["article"] as? [String: Any])?["tagList"] as? [String] == ["Apple", "apple", "zebra", "éclair"])
                }
                try await client.execute(uri: "/api/tags", method: .get) {
                    #expect(json($0.body)["tags"] as? [String] == ["Apple", "apple", "dragons", "training", "zebra", "éclair"])
                }
            }
            await app.keel.database.shutdown()
        }
    }
}
