import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct ConduitAuditTests {
    /// Every write of the API makes exactly its entries: by whom (the user's id, by token), in which request, on which
    /// row, with the fields that changed; deleting an article records the comments and favorites that went with it.
    @Test(arguments: TestDatabase.available)
    func everyAPIWriteIsAudited(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            let audit = app.keel.audit
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                let anna = try await register(client, "anna")
                try await client.execute(uri: "/api/user", method: .put, headers: tokenHeaders(jake),
                                         body: body(["user": ["bio": "I like to skateboard", "email": "jake@jake.jake"]])) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/user", method: .put, headers: tokenHeaders(jake),
                                         body: body(["user": ["password": "another-long-secret"]])) { #expect($0.status == .ok) }
                let slug = try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(jake),
                                                    body: body(["article": ["title": "How to train", "description": "D", "body": "B", "tagList": ["dragons"]]])) {
                    #expect($0.status == .created)
                    return (json($0.body)["article"] as? [String: Any])?["slug"] as? String ?? "?"
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .put, headers: tokenHeaders(jake),
                                         body: body(["article": ["body": "New body"]])) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/articles/\(slug)/favorite", method: .post, headers: tokenHeaders(anna)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/profiles/jake/follow", method: .post, headers: tokenHeaders(anna)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/profiles/jake/follow", method: .delete, headers: tokenHeaders(anna)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/articles/\(slug)/comments", method: .post, headers: tokenHeaders(anna),
                                         body: body(["comment": ["body": "Nice"]])) { #expect($0.status == .ok) }
                // A write that fails (someone else's article) makes no entry.
                try await client.execute(uri: "/api/articles/\(slug)", method: .delete, headers: tokenHeaders(anna)) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/api/articles/\(slug)", method: .delete, headers: tokenHeaders(jake)) { #expect($0.status == .noContent) }
            }
            let records = Array(try await audit.entries(limit: 100).reversed())
            let changes = records.filter { $0.entry.objectTable != nil && ["insert", "update", "delete"].contains($0.entry.action) }
            let summary = changes.map { "\($0.entry.action) \($0.entry.objectTable!)" }
            #expect(summary == [
                "insert users", "insert users", "update users", "update users", "insert articles", "update articles",
                "insert favorites", "insert follows", "delete follows", "insert comments",
                "delete comments", "delete favorites", "delete articles",
            ])
            let jakeID = try #require(changes.first?.entry.objectKey)
            let bio = changes[2]
            #expect(bio.entry.actor == jakeID && bio.entry.via == "token" && bio.entry.requestID?.isEmpty == false)
            #expect(bio.fields["bio"] == AuditField(before: .null, after: .text("I like to skateboard")))
            #expect(bio.fields["email"] == AuditField(before: .text("jake@example.com"), after: .text("jake@jake.jake")))
            #expect(!bio.entry.fields.contains("jake@jake.jake"), "personal values are stored sealed")
            let password = changes[3]
            #expect(password.fields["password_hash"] == AuditField(changed: true))
            #expect(records.contains { $0.entry.action == "auth.password_changed" && $0.entry.subject == jakeID })
            let edit = changes[5]
            #expect(edit.fields["body"] == AuditField(before: .text("B"), after: .text("New body")))
            #expect(edit.fields.keys.sorted() == ["body", "updated_at"])
            let favorite = changes[6]
            #expect(favorite.entry.objectKey?.hasSuffix("/" + (changes[4].entry.objectKey ?? "?")) == true, "a favorite's key is user/article")
            #expect(try await audit.verify(checkpoints: []).intact)
        }
    }
}
