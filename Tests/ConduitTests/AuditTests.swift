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

    /// Security events: sign-out, a refused password (the account sealed, about the person), a sign-in, a lockout,
    /// permissions granted (once), sessions ended, `migrate` runs, and the signing keys as they are rotated.
    @Test(arguments: TestDatabase.available)
    func securityEventsAreAudited(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url, values: ["security.loginThrottle.maxFailures": "2"])
            let audit = app.keel.audit
            try await app.application().test(.router) { client in
                var browser = PageClient()
                _ = try await browser.get(client, "/register")
                _ = try await browser.post(client, "/register", [("username", "ada"), ("email", "ada@example.com"), ("password", "a-long-secret")])
                _ = try await browser.get(client, "/")
                #expect(try await browser.post(client, "/logout", []).status == .seeOther)
                _ = try await browser.get(client, "/login")
                let wrong = try await browser.post(client, "/login", [("email", "ada@example.com"), ("password", "not-it")])
                #expect(wrong.status == .unprocessableContent)
                let right = try await browser.post(client, "/login", [("email", "ada@example.com"), ("password", "a-long-secret")])
                #expect(right.status == .seeOther)
                for _ in 0..<3 {
                    try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                             body: body(["user": ["email": "nobody@example.com", "password": "wrong-password"]])) { _ in }
                }
            }
            let ada = try #require(try await audit.entries(matching: AuditFilter(objectTable: "users", action: "insert")).first?.entry.objectKey)
            func events(_ action: String) async throws -> [AuditRecord] {
                try await audit.entries(matching: AuditFilter(action: action))
            }
            let signOut = try #require(try await events("auth.sign_out").first)
            #expect(signOut.entry.subject == ada && signOut.entry.actor == ada && signOut.entry.via == "session")
            let failed = try await events("auth.sign_in_failed")
            let adaFailed = try #require(failed.first { $0.entry.subject == ada })
            #expect(adaFailed.fields["account"]?.value == .text("ada@example.com"))
            #expect(!adaFailed.entry.fields.contains("ada@example.com"), "the account is sealed with the person's key")
            #expect(adaFailed.entry.actor == "anonymous" && adaFailed.entry.requestID != nil)
            #expect(try await events("auth.sign_in").map(\.entry.subject) == [ada])
            #expect(failed.filter { $0.entry.subject == nil }.count == 2, "two wrong passwords for an unknown account")
            #expect(try await events("auth.locked_out").count == 1, "the third attempt is refused by the throttle")

            let permission = "articles.delete_article"
            try await app.keel.access.grant(permission, to: ada)
            try await app.keel.access.grant(permission, to: ada)
            let grants = try await events("access.permission_granted")
            #expect(grants.count == 1, "granting what is held records nothing")
            #expect(grants.first?.fields["permission"]?.value == .text(permission) && grants.first?.entry.subject == ada)
            try await ChangeAttribution.$current.withValue(.command("sessions end")) {
                try await app.keel.endSessions(of: ada)
            }
            #expect(try await events("auth.sessions_ended").first?.entry.actor == "command:sessions end")
            let migrated = try #require(try await events("keel.migrated").first)
            #expect(migrated.fields["applied"]?.value.map { "\($0)" }?.contains("audit.0001_trail") == true)

            #expect(try await audit.recordKeyring())
            #expect(try await !audit.recordKeyring(), "the same keys are recorded once")
            let original = try #require(try await events("security.keyring").first?.fields["signing"]?.value)
            let rotated = try await KeelTestApplication.conduit(url: url, values: [
                "signing.key": "a-new-signing-key-that-is-long-enough-0123456789", "signing.fallbackKeys": "keel-insecure-development-key-change-me",
            ])
            #expect(try await rotated.keel.audit.recordKeyring())
            let rotation = try #require(try await events("security.keyring").first)
            #expect(rotation.fields["added"]?.value != .text(""))
            #expect(rotation.fields["signing"]?.value != original)
            #expect(try await audit.verify(checkpoints: []).intact)
        }
    }

    /// Staff see who changed a user or an article on its page (the change made under elevated access says so), read
    /// and filter the whole trail at /staff/audit a page at a time, and get a 400 naming a filter they mistyped.
    @Test(arguments: TestDatabase.available)
    func staffReadTheHistory(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            let users = try #require(app.keel.users)
            let rootID = try await users.createUser(username: "root", email: "root@example.com", password: "root-password")
            try await app.keel.access.setFlags(of: rootID, staff: true, superuser: true)
            let annID = try await users.createUser(username: "ann", email: "ann@example.com", password: "ann-password")
            try await app.application().test(.router) { client in
                let ann = try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                                   body: body(["user": ["email": "ann@example.com", "password": "ann-password"]])) { response in
                    try #require((json(response.body)["user"] as? [String: Any])?["token"] as? String)
                }
                let slug = try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(ann),
                                                    body: body(["article": ["title": "Ann's", "description": "D", "body": "B"]])) {
                    (json($0.body)["article"] as? [String: Any])?["slug"] as? String ?? "?"
                }
                try await client.execute(uri: "/api/articles/\(slug)", method: .put, headers: tokenHeaders(ann),
                                         body: body(["article": ["body": "Better"]])) { #expect($0.status == .ok) }
                var root = PageClient()
                try await StaffTests.signIn(&root, client, "root@example.com", "root-password")
                _ = try await root.get(client, "/staff/elevate")
                _ = try await root.post(client, "/staff/elevate", [("password", "root-password"), ("reason", "ticket 9"), ("next", "/staff")])
                _ = try await root.get(client, "/staff/users/\(annID)")
                #expect(try await root.post(client, "/staff/users/\(annID)/active", [("on", "0")]).status == .seeOther)

                let page = try await root.get(client, "/staff/users/\(annID)")
                #expect(page.html.contains(#"<h2 id="history">History</h2>"#))
                #expect(page.html.contains("is_active: 1 → 0"))
                #expect(page.html.contains(#"<a href="/staff/users/\#(rootID)">\#(rootID)</a></td><td>elevated</td><td>update</td>"#),
                        "the change shows who made it, under elevated access")

                let articleID = try #require(try await app.keel.audit.entries(matching: AuditFilter(objectTable: "articles", action: "insert")).first?.entry.objectKey)
                let article = try await root.get(client, "/staff/articles/\(articleID)")
                #expect(article.status == .ok)
                #expect(article.html.contains("body: &quot;B&quot; → &quot;Better&quot;"), "values are escaped in the page")

                let trail = try await root.get(client, "/staff/audit?actor=\(rootID)&action=update")
                #expect(trail.status == .ok)
                #expect(trail.html.contains("1 matching entries"))
                let bad = try await root.get(client, "/staff/audit?since=yesterday")
                #expect(bad.status == .badRequest)
                #expect(bad.html.contains("since must be a date such as 2026-12-08"))
                #expect(try await root.get(client, "/staff/audit?object=no%20such").status == .badRequest)
                #expect(try await root.get(client, "/staff/audit?before=-4").status == .badRequest)
                #expect(try await root.get(client, "/staff/articles/99999").status == .notFound)
            }
        }
    }
}
