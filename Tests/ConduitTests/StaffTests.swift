import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// Conduit's staff area through the test client: who gets in, elevation before any change, what each change does,
/// and the log of what was done under elevation.
@Suite struct StaffTests {
    /// Signs a user in through the form.
    static func signIn(_ browser: inout PageClient, _ client: any TestClientProtocol, _ email: String, _ password: String) async throws {
        _ = try await browser.get(client, "/login")
        let done = try await browser.post(client, "/login", [("email", email), ("password", password)])
        #expect(done.status == .seeOther, "signed in as \(email)")
    }

    @Test(arguments: TestDatabase.available)
    func staffElevateThenDeactivateAUserWhoseSessionsEnd(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            let users = try #require(app.keel.users)
            let rootID = try await users.createUser(username: "root", email: "root@example.com", password: "root-password")
            try await app.keel.access.setFlags(of: rootID, staff: true, superuser: true)
            let annID = try await users.createUser(username: "ann", email: "ann@example.com", password: "ann-password")
            try await app.application().test(.router) { client in
                // Signed out: to sign in. Not staff: 403.
                var nobody = PageClient()
                let out = try await nobody.get(client, "/staff")
                #expect(out.status == .seeOther)
                #expect(out.headers[.location] == "/login?next=%2Fstaff")
                var ann = PageClient()
                try await Self.signIn(&ann, client, "ann@example.com", "ann-password")
                let annToken = try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                                        body: body(["user": ["email": "ann@example.com", "password": "ann-password"]])) { response in
                    try #require((json(response.body)["user"] as? [String: Any])?["token"] as? String)
                }
                #expect(try await ann.get(client, "/staff").status == .forbidden)
                #expect(try await ann.get(client, "/").html.contains("Sign out"))

                // Staff read without elevation; a change sends them to confirm first.
                var root = PageClient()
                try await Self.signIn(&root, client, "root@example.com", "root-password")
                #expect(try await root.get(client, "/").html.contains(#"<a href="/staff">Staff</a>"#), "staff see the way in")
                #expect(try await !ann.get(client, "/").html.contains(#"<a href="/staff">"#))
                let home = try await root.get(client, "/staff")
                #expect(home.status == .ok)
                #expect(home.html.contains("confirm your password"))
                let list = try await root.get(client, "/staff/users?q=AN")
                #expect(list.html.contains(#"<a href="/staff/users/\#(annID)">ann</a>"#))
                #expect(!list.html.contains(#"<a href="/staff/users/\#(rootID)">"#))
                #expect(try await root.get(client, "/staff/users?q=%25").html.contains("No user matches."), "a % is matched literally")
                let userPage = try await root.get(client, "/staff/users/\(annID)")
                #expect(userPage.html.contains("Deactivate"))
                let refused = try await root.post(client, "/staff/users/\(annID)/active", [("on", "0")])
                #expect(refused.status == .seeOther)
                #expect(refused.headers[.location]?.hasPrefix("/staff/elevate?next=") == true)

                // Elevate: a wrong password is shown on the form; the right one with a reason goes on.
                _ = try await root.get(client, "/staff/elevate?next=/staff/users/\(annID)")
                let wrong = try await root.post(client, "/staff/elevate", [("password", "nope"), ("reason", "ticket 7"), ("next", "/staff/users/\(annID)")])
                #expect(wrong.status == .unprocessableContent)
                #expect(wrong.html.contains("password is not correct"))
                let elevated = try await root.post(client, "/staff/elevate", [("password", "root-password"), ("reason", "ticket 7"), ("next", "/staff/users/\(annID)")])
                #expect(elevated.status == .seeOther)
                #expect(elevated.headers[.location] == "/staff/users/\(annID)")
                let page = try await root.get(client, "/staff/users/\(annID)")
                #expect(page.html.contains("Elevated access until"))
                #expect(page.html.contains("ticket 7"))

                let sessions = try await root.get(client, "/staff/sessions")
                #expect(sessions.html.contains(#"<a href="/staff/users/\#(annID)">ann</a>"#), "ann's session is listed")
                #expect(sessions.html.contains("2 users"))
                // Deactivate ann: her session ends at once, and she cannot sign in again.
                let deactivated = try await root.post(client, "/staff/users/\(annID)/active", [("on", "0")])
                #expect(deactivated.status == .seeOther)
                #expect(try await root.get(client, "/staff/users/\(annID)").html.contains("is deactivated; their sessions ended."))
                #expect(try await ann.get(client, "/").html.contains(#"<a href="/login">Sign in</a>"#), "ann's session ended")
                #expect(try await root.get(client, "/staff/users/\(annID)").html.contains("No signed-in session."))
                try await client.execute(uri: "/api/user", method: .get, headers: tokenHeaders(annToken)) { response in
                    #expect(response.status == .unauthorized, "her API token ended too")
                }
                _ = try await ann.get(client, "/login")
                let again = try await ann.post(client, "/login", [("email", "ann@example.com"), ("password", "ann-password")])
                #expect(again.status == .unprocessableContent)
                #expect(again.html.contains("email or password is invalid"))

                // Groups and permissions, then the review shows them.
                #expect(try await root.post(client, "/staff/groups", [("name", "moderators")]).status == .seeOther)
                #expect(try await root.post(client, "/staff/groups/permissions", [("group", "moderators"), ("permission", "articles.delete_article"), ("on", "1")]).status == .seeOther)
                #expect(try await root.post(client, "/staff/users/\(annID)/groups", [("group", "moderators"), ("on", "1")]).status == .seeOther)
                let groups = try await root.get(client, "/staff/groups")
                #expect(groups.html.contains("<h2>moderators</h2>"))
                #expect(groups.html.contains("articles.delete_article <form"))
                let review = try await root.get(client, "/staff/review")
                #expect(review.html.contains("articles.delete_article (group moderators)"))
                #expect(review.html.contains("superuser, staff"))
                #expect(review.html.contains("ticket 7"), "the elevation log is on the review page")
                #expect(review.html.contains("POST /staff/users/{id}/active"))
                // The deploy checks of this instance's own settings: the test profile's development signing key is one.
                let checks = try await root.get(client, "/staff/checks")
                #expect(checks.status == .ok)
                #expect(checks.html.contains("<code>security.W009</code>"))
                #expect(checks.html.contains("profile test"))
            }
            // Every request made under elevation was logged, with the reason.
            let log = try await app.keel.access.elevationLog(of: rootID)
            #expect(log.contains { $0.route == "/staff/users/{id}/active" && $0.method == "POST" && $0.reason == "ticket 7" })
            #expect(log.contains { $0.route == "/staff/groups" && $0.method == "POST" })
            await app.keel.database.shutdown()
        }
    }

    @Test func aNewPasswordStaffRequireComesBeforeAnythingElse() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        let users = try #require(app.keel.users)
        let rootID = try await users.createUser(username: "root", email: "root@example.com", password: "root-password")
        try await app.keel.access.setFlags(of: rootID, staff: true, superuser: false)
        let bobID = try await users.createUser(username: "bob", email: "bob@example.com", password: "bob-password")
        try await app.application().test(.router) { client in
            var bob = PageClient()
            try await Self.signIn(&bob, client, "bob@example.com", "bob-password")
            var root = PageClient()
            try await Self.signIn(&root, client, "root@example.com", "root-password")
            _ = try await root.get(client, "/staff/elevate")
            _ = try await root.post(client, "/staff/elevate", [("password", "root-password"), ("reason", "leaked password, ticket 9")])
            _ = try await root.get(client, "/staff/users/\(bobID)")
            let required = try await root.post(client, "/staff/users/\(bobID)/password-reset", [])
            #expect(required.status == .seeOther)
            #expect(try await root.get(client, "/staff/users/\(bobID)").html.contains("must choose a new password"))

            // Bob's session ended; signing in sends him to choose a password, and member pages wait for it.
            #expect(try await bob.get(client, "/settings").status == .seeOther)
            _ = try await bob.get(client, "/login")
            let signedIn = try await bob.post(client, "/login", [("email", "bob@example.com"), ("password", "bob-password")])
            #expect(signedIn.headers[.location] == "/settings")
            let editor = try await bob.get(client, "/editor")
            #expect(editor.status == .seeOther)
            #expect(editor.headers[.location] == "/settings")
            #expect(try await bob.get(client, "/settings").html.contains("Choose a new password before going on."))
            // The API gives no token until then.
            try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                     body: body(["user": ["email": "bob@example.com", "password": "bob-password"]])) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("accounts.password_reset_required"))
            }
            let changed = try await bob.post(client, "/settings", [("username", "bob"), ("email", "bob@example.com"), ("password", "bob-new-password")])
            #expect(changed.status == .seeOther)
            #expect(try await bob.get(client, "/editor").status == .ok)
            try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                     body: body(["user": ["email": "bob@example.com", "password": "bob-new-password"]])) { #expect($0.status == .ok) }
        }
    }
}
