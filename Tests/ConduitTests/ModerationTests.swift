import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// Conduit's permissions: what a moderator may do beyond their own articles and comments, and Conduit's users as
/// Keel sees them.
@Suite struct ModerationTests {
    @Test(arguments: TestDatabase.available)
    func aModeratorDeletesAnyonesArticleAndCommentOthersStillCannot(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            #expect(try await app.keel.access.declared().map(\.codename) == ["articles.delete_article", "articles.delete_comment"])
            try await app.application().test(.router) { client in
                let author = try await register(client, "author")
                let reader = try await register(client, "reader")
                let moderator = try await register(client, "moderator")
                let moderatorID = try #require(try await app.keel.users?.userID(named: "moderator"))
                try await app.keel.access.createGroup("moderators")
                try await app.keel.access.grant("articles.delete_article", toGroup: "moderators")
                try await app.keel.access.grant("articles.delete_comment", toGroup: "moderators")
                try await app.keel.access.add(user: moderatorID, toGroup: "moderators")

                let slug = try await createArticle(client, author, title: "Moderated")
                let commentID = try await client.execute(uri: "/api/articles/\(slug)/comments", method: .post, headers: tokenHeaders(author),
                                                         body: body(["comment": ["body": "first"]])) { response in
                    try #require((json(response.body)["comment"] as? [String: Any])?["id"] as? Int)
                }
                // Someone else: still 403, as RealWorld says.
                try await client.execute(uri: "/api/articles/\(slug)/comments/\(commentID)", method: .delete, headers: tokenHeaders(reader)) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .delete, headers: tokenHeaders(reader)) { #expect($0.status == .forbidden) }
                // The moderator: allowed.
                try await client.execute(uri: "/api/articles/\(slug)/comments/\(commentID)", method: .delete, headers: tokenHeaders(moderator)) {
                    #expect($0.status == .ok || $0.status == .noContent)
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .delete, headers: tokenHeaders(moderator)) {
                    #expect($0.status == .ok || $0.status == .noContent)
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .get) { #expect($0.status == .notFound) }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func conduitsUsersForKeelsCommandsAndElevatedAccess() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        let users = try #require(app.keel.users)
        let id = try await users.createUser(username: "root", email: "Root@Example.com", password: "a long password")
        #expect(try await users.userID(named: "root") == id)
        #expect(try await users.userID(named: "root@example.com") == id, "by e-mail too, normalized")
        #expect(try await users.verifyPassword("a long password", of: id))
        #expect(try await !users.verifyPassword("wrong", of: id))
        await #expect(throws: KeelError.self) { try await users.createUser(username: "root", email: "other@example.com", password: "a long password") }
        await #expect(throws: KeelError.self) { try await users.setPassword("short", of: id) }
        try await users.setPassword("another long password", of: id)
        #expect(try await users.verifyPassword("another long password", of: id))
        #expect(try await users.names(of: [id, "999", "x"]) == [id: "root"])
    }
}
