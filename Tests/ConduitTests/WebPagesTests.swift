import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// A browser's state between requests over the test client (no browser): the session cookie and the last form's CSRF
/// token. `BrowserTests` drives a real one.
struct PageClient {
    var cookie: String?
    var token: String?

    var headers: HTTPFields {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        return headers
    }

    /// GET a page; keeps a new session cookie and the page's CSRF token.
    mutating func get(_ client: any TestClientProtocol, _ uri: String) async throws -> (status: HTTPResponse.Status, html: String, headers: HTTPFields) {
        let response = try await client.execute(uri: uri, method: .get, headers: headers)
        keep(response)
        let html = String(buffer: response.body)
        Self.checkHTML(html, of: response, at: uri)
        if let found = html.firstMatch(of: /name="csrf_token" value="([A-Za-z0-9_-]+)"/)?.output.1 { token = String(found) }
        return (response.status, html, response.headers)
    }

    /// POST a form with the CSRF token (unless `withToken` is false).
    mutating func post(
        _ client: any TestClientProtocol, _ uri: String, _ fields: [(String, String)], withToken: Bool = true
    ) async throws -> (status: HTTPResponse.Status, html: String, headers: HTTPFields) {
        var all = fields
        if withToken, let token { all.append(("csrf_token", token)) }
        let text = all.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        var headers = self.headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: text))
        keep(response)
        Self.checkHTML(String(buffer: response.body), of: response, at: uri)
        return (response.status, String(buffer: response.body), response.headers)
    }

    /// Every page a test sees is checked: a template that makes the browser build another tree than it reads fails
    /// the test that fetched it.
    static func checkHTML(_ html: String, of response: TestResponse, at uri: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard response.headers[.contentType]?.hasPrefix("text/html") == true else { return }
        let problems = HTMLChecker.problems(in: html)
        #expect(problems.isEmpty, "\(uri) (\(response.status.code)) is not well-formed HTML: \(problems)", sourceLocation: sourceLocation)
    }

    mutating func keep(_ response: TestResponse) {
        for field in response.headers[values: .setCookie] where field.hasPrefix("keel_session=") {
            let pair = String(field.split(separator: ";")[0])
            cookie = pair == "keel_session=" ? nil : pair
            if field.contains("Max-Age=0") { cookie = nil }
        }
    }
}

@Suite struct WebPagesTests {
    @Test func signUpSignOutAndSignInThroughForms() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var browser = PageClient()
            let form = try await browser.get(client, "/register")
            #expect(form.status == .ok)
            #expect(form.html.contains("<h1>Sign up</h1>"))
            #expect(browser.token != nil)

            // Problems come back next to their fields, with what was typed kept (and escaped).
            let invalid = try await browser.post(client, "/register", [("username", ""), ("email", "a\"<b>@example.com"), ("password", "short")])
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.html.contains("username can&#39;t be blank"))
            #expect(invalid.html.contains(#"value="a&quot;&lt;b&gt;@example.com""#))
            #expect(invalid.html.contains("password "))

            let before = browser.cookie
            let created = try await browser.post(client, "/register", [("username", "ada"), ("email", "ada@example.com"), ("password", "a-long-secret")])
            #expect(created.status == .seeOther)
            #expect(created.headers[.location] == "/")
            #expect(browser.cookie != nil && browser.cookie != before, "signing in gives the session a new key")
            let home = try await browser.get(client, "/")
            #expect(home.html.contains("Welcome to Conduit, ada."))
            #expect(home.html.contains("Sign out"))
            #expect(home.html.contains("Your Feed"))

            let out = try await browser.post(client, "/logout", [])
            #expect(out.status == .seeOther)
            #expect(browser.cookie == nil)
            #expect(try await browser.get(client, "/").html.contains(#"<a href="/login">Sign in</a>"#))

            _ = try await browser.get(client, "/login?next=%2Farticle%2Fx")
            let wrong = try await browser.post(client, "/login", [("email", "ada@example.com"), ("password", "not-it"), ("next", "/article/x")])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.html.contains("email or password is invalid"))
            let signedIn = try await browser.post(client, "/login", [("email", "ada@example.com"), ("password", "a-long-secret"), ("next", "/article/x")])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/article/x")

            _ = try await browser.get(client, "/login")
            _ = try await browser.post(client, "/logout", [])
            _ = try await browser.get(client, "/login")
            let offSite = try await browser.post(client, "/login", [("email", "ada@example.com"), ("password", "a-long-secret"), ("next", "//evil.example/")])
            #expect(offSite.headers[.location] == "/", "next= goes only to this site")
        }
    }

    @Test func aForgedCrossSiteFormChangesNothing() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var browser = PageClient()
            _ = try await browser.get(client, "/register")
            _ = try await browser.post(client, "/register", [("username", "bob"), ("email", "bob@example.com"), ("password", "a-long-secret")])
            let forged = try await browser.post(client, "/logout", [], withToken: false)
            #expect(forged.status == .forbidden)
            #expect(forged.html.contains("security token is missing or does not match"))
            #expect(forged.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(try await browser.get(client, "/").html.contains("Sign out"), "still signed in")
        }
    }

    /// The navigation names the signed-in user on every page, error pages included (they render outside the stages
    /// that set the identity, and a path no route has runs no web stages at all).
    @Test func theNavigationNamesTheSignedInUserOnEveryPage() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var browser = PageClient()
            _ = try await browser.get(client, "/register")
            #expect(try await browser.get(client, "/register").html.contains(#"<a href="/login">Sign in</a>"#))
            _ = try await browser.post(client, "/register", [("username", "ada"), ("email", "ada@example.com"), ("password", "a-long-secret")])
            let me = #"<a class="me" href="/profile/ada">ada</a>"#
            #expect(try await browser.get(client, "/").html.contains(me))

            let missingArticle = try await browser.get(client, "/article/no-such-article")
            #expect(missingArticle.status == .notFound)
            #expect(missingArticle.html.contains(me) && missingArticle.html.contains("Sign out"))
            #expect(!missingArticle.html.contains(#"<a href="/login">Sign in</a>"#))

            let noRoute = try await client.execute(uri: "/no/such/page", method: .get, headers: browser.headers + [.accept: "text/html"]) { $0 }
            #expect(noRoute.status == .notFound)
            #expect(String(buffer: noRoute.body).contains(me), "a path no route has: the session still names the user")
            PageClient.checkHTML(String(buffer: noRoute.body), of: noRoute, at: "/no/such/page")

            let forged = try await browser.post(client, "/settings", [("bio", "forged")], withToken: false)
            #expect(forged.status == .forbidden)
            #expect(forged.html.contains(me) && forged.html.contains("Sign out"), "the CSRF page, too")

            // A new name shows at once.
            _ = try await browser.get(client, "/settings")
            _ = try await browser.post(client, "/settings", [("username", "ada.l"), ("email", "ada@example.com"), ("bio", ""), ("image", "")])
            #expect(try await browser.get(client, "/").html.contains(#"<a class="me" href="/profile/ada.l">ada.l</a>"#))
        }
    }

    /// Browsers ask for `/favicon.ico` whatever the page says; a 404 there is an error in every new browser's console.
    /// Links carry names and tags percent-encoded (`{{urlencode(tag)}}`): a tag with `&`, `+` and spaces, and a name in
    /// another script, lead where they say.
    @Test func linksWithAnyTagOrNameWork() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var author = PageClient()
            _ = try await author.get(client, "/register")
            _ = try await author.post(client, "/register", [("username", "jürgen"), ("email", "j@example.com"), ("password", "a-long-secret")])
            _ = try await author.get(client, "/editor")
            let published = try await author.post(client, "/editor", [
                ("title", "Tags"), ("description", "d"), ("body", "b"), ("tagList", "c++ & rust"),
            ])
            #expect(published.status == .seeOther)
            let home = try await author.get(client, "/")
            #expect(home.html.contains(#"href="/?tag=c%2B%2B%20%26%20rust""#), "\(home.html)")
            #expect(home.html.contains(#"href="/profile/j%C3%BCrgen""#))
            let filtered = try await author.get(client, "/?tag=c%2B%2B%20%26%20rust")
            #expect(filtered.html.contains("<h2>Tags</h2>"))
            #expect(filtered.html.contains("#c++ &amp; rust"))
            let profile = try await author.get(client, "/profile/j%C3%BCrgen")
            #expect(profile.status == .ok)
            #expect(profile.html.contains("<h2>Tags</h2>"))
        }
    }

    @Test func theSiteHasAnIcon() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            for path in ["/favicon.ico", "/favicon.svg"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "image/svg+xml")
                    #expect(response.headers[.cacheControl] == "public, max-age=86400")
                    #expect(String(buffer: response.body).hasPrefix("<svg "))
                }
            }
            var browser = PageClient()
            #expect(try await browser.get(client, "/").html.contains(#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#))
        }
    }

    @Test func anIdleSessionEndsAndThePagesSaySo() async throws {
        let clock = ManualClock()
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:", values: ["security.session.idleTimeout": "10m"], clock: clock)
        try await app.application().test(.router) { client in
            var browser = PageClient()
            _ = try await browser.get(client, "/register")
            _ = try await browser.post(client, "/register", [("username", "ada"), ("email", "ada@example.com"), ("password", "a-long-secret")])
            clock.advance(by: .seconds(9 * 60))
            #expect(try await browser.get(client, "/settings").html.contains("Your Settings"), "activity within the idle timeout")
            clock.advance(by: .seconds(9 * 60))
            #expect(try await browser.get(client, "/").html.contains("Sign out"), "each request restarts the idle timeout")
            clock.advance(by: .seconds(11 * 60))
            let expired = try await browser.get(client, "/settings")
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location] == "/login?next=%2Fsettings")
            #expect(try await browser.get(client, "/").html.contains(">Sign in</a>"))
        }
    }

    @Test func homeFeedsTagsPagesAndAnArticle() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            let token = try await register(client, "writer")
            for number in 1...12 {
                let article: [String: Any] = [
                    "title": "Post \(number)", "description": "About <\(number)>",
                    "body": "First paragraph.\n\nSecond <b>not bold</b> but **strong**, [a link](https://example.com) and [a trap](javascript:alert(1)).",
                    "tagList": number.isMultiple(of: 2) ? ["even"] : ["odd"],
                ]
                try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(token), body: body(["article": article])) {
                    #expect($0.status == .created)
                }
            }
            var browser = PageClient()
            let first = try await browser.get(client, "/")
            #expect(first.html.contains("Post 12"))
            #expect(!first.html.contains("Post 2<"), "ten a page, newest first")
            #expect(first.html.contains("About &lt;12&gt;"))
            #expect(first.html.contains(#"href="/?page=2""#))
            let second = try await browser.get(client, "/?page=2")
            #expect(second.html.contains("Post 1<") && second.html.contains("Post 2<"))
            // Any page number a visitor can type: not a number is the first page, past the end the last (as Django's
            // Paginator.get_page), and none is a 500 or brings the server down.
            for (number, expected) in [("9223372036854775807", 2), ("99999999999999999999999", 1), ("-3", 1), ("0", 1),
                                       ("abc", 1), ("3", 2), ("1e3", 1), ("%00", 1), ("", 1)] {
                let shown = try await browser.get(client, "/?page=\(number)")
                #expect(shown.status == .ok, "page=\(number)")
                #expect(shown.html.contains(#"class="current" aria-current="page">\#(expected)</a>"#), "page=\(number)")
                #expect(shown.html.contains(expected == 1 ? "Post 12" : "Post 1<"), "page=\(number)")
            }
            let even = try await browser.get(client, "/?tag=even")
            #expect(even.html.contains("Post 12") && !even.html.contains("Post 11"))
            #expect(even.html.contains(#"class="active" href="/?tag=even""#))

            let slug = try #require(first.html.firstMatch(of: /href="\/article\/([^"]+)"/)?.output.1)
            let article = try await browser.get(client, "/article/\(slug)")
            #expect(article.status == .ok)
            #expect(article.html.contains("<h1>Post 12</h1>"))
            #expect(article.html.contains("<p>First paragraph.</p>"))
            #expect(article.html.contains("Second &lt;b&gt;not bold&lt;/b&gt; but <strong>strong</strong>"), "Markdown, its raw HTML escaped")
            #expect(article.html.contains(#"<a href="https://example.com" rel="nofollow ugc">a link</a> and a trap."#))
            #expect(!article.html.contains("javascript:"))

            let missing = try await browser.get(client, "/article/no-such-article")
            #expect(missing.status == .notFound)
            #expect(missing.html.contains("<h1>404 Not Found</h1>"))
            #expect(missing.html.contains("Back to the home page"))

            // Your feed needs a signed-in user.
            let feed = try await client.execute(uri: "/?feed=you", method: .get)
            #expect(feed.status == .seeOther)
            #expect(feed.headers[.location] == "/login?next=%2F%3Ffeed%3Dyou")
        }
    }

    /// The home page's sidebar: every tag in use, once, in byte order as `GET /api/tags` gives them (not the database
    /// server's locale), a tag no article carries any more left out; read in the page's one statement, and on a page
    /// past the end (no article to carry them) by a statement of their own.
    @Test(arguments: TestDatabase.available)
    func theHomePageShowsTheTagsInUseInItsOneStatement(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let token = try await register(client, "tagger")
                var slugs: [String] = []
                for tags in [["éclair", "Zebra"], ["apple", "b", "Zebra"], ["gone"]] {
                    let article: [String: Any] = ["title": "T \(slugs.count)", "description": "d", "body": "b", "tagList": tags]
                    try await client.execute(uri: "/api/articles", method: .post, headers: tokenHeaders(token), body: body(["article": article])) {
                        #expect($0.status == .created)
                        slugs.append(try #require((json($0.body)["article"] as? [String: Any])?["slug"] as? String))
                    }
                }
                try await client.execute(uri: "/api/articles/\(slugs[2])", method: .delete, headers: tokenHeaders(token)) {
                    #expect($0.status == .noContent)
                }
                let inUse = try await client.execute(uri: "/api/tags", method: .get) { json($0.body)["tags"] as? [String] }
                #expect(inUse == ["Zebra", "apple", "b", "éclair"])

                func sidebar(_ uri: String) async throws -> [String] {
                    var browser = PageClient()
                    let page = try await browser.get(client, uri)
                    #expect(page.status == .ok)
                    let aside = try #require(page.html.firstMatch(of: /<aside>([\s\S]*?)<\/aside>/)?.output.1)
                    return aside.matches(of: /class="tag" href="[^"]*">([^<]*)<\/a>/).map { String($0.output.1) }
                }
                let (home, stats) = try await expectQueries(atMost: 1) { try await sidebar("/") }
                #expect(stats.count == 1)
                #expect(home == ["Zebra", "apple", "b", "éclair"])
                let (pastTheEnd, _) = try await expectQueries(atMost: 3) { try await sidebar("/?page=9") }
                #expect(pastTheEnd == ["Zebra", "apple", "b", "éclair"])
                #expect(try await sidebar("/?tag=apple") == ["Zebra", "apple", "b", "éclair"], "a tag's page still lists them all")
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func writeCommentFavoriteFollowAndProfiles() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var author = PageClient()
            // The editor needs a signed-in user.
            let anonymous = try await author.get(client, "/editor")
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login?next=%2Feditor")

            _ = try await author.get(client, "/register")
            _ = try await author.post(client, "/register", [("username", "author"), ("email", "author@example.com"), ("password", "a-long-secret")])
            _ = try await author.get(client, "/editor")
            let incomplete = try await author.post(client, "/editor", [("title", "Dragons"), ("description", ""), ("body", "Text")])
            #expect(incomplete.status == .unprocessableContent)
            #expect(incomplete.html.contains("description can&#39;t be blank"))
            #expect(incomplete.html.contains(#"value="Dragons""#), "what was typed stays")
            let published = try await author.post(client, "/editor", [
                ("title", "How to train your dragon"), ("description", "Ever wonder how?"), ("body", "It takes a Jacobian.\n\nAnd patience."),
                ("tagList", "training, dragons"),
            ])
            #expect(published.status == .seeOther)
            let location = try #require(published.headers[.location])
            #expect(location.hasPrefix("/article/how-to-train-your-dragon-"))
            let page = try await author.get(client, location)
            #expect(page.html.contains("Published."))
            #expect(page.html.contains(#"<span class="tag">dragons</span><span class="tag">training</span>"#), "tags sorted, as the API shows them")
            #expect(!page.html.contains("Follow author"), "no follow button for oneself")

            var reader = PageClient()
            _ = try await reader.get(client, "/register")
            _ = try await reader.post(client, "/register", [("username", "reader"), ("email", "reader@example.com"), ("password", "a-long-secret")])
            _ = try await reader.get(client, location)
            let commented = try await reader.post(client, location + "/comments", [("body", "Great <post>!")])
            #expect(commented.status == .seeOther)
            var shown = try await reader.get(client, location)
            #expect(shown.html.contains("<p>Great &lt;post&gt;!</p>"))
            let deleteAction = try #require(shown.html.firstMatch(of: /action="(\/article\/[^"]+\/comments\/\d+\/delete)"/)?.output.1)
            #expect(try await author.get(client, location).html.firstMatch(of: /\/comments\/\d+\/delete/) == nil, "only the comment's author sees Delete")

            _ = try await reader.post(client, location + "/favorite", [("on", "1")])
            _ = try await reader.post(client, "/profile/author/follow", [("on", "1"), ("next", location)])
            shown = try await reader.get(client, location)
            #expect(shown.html.contains("Unfavorite (1)"))
            #expect(shown.html.contains("Unfollow author"))
            let feed = try await reader.get(client, "/?feed=you")
            #expect(feed.html.contains("How to train your dragon"), "following puts the author's articles in your feed")
            let favorited = try await reader.get(client, "/profile/reader?tab=favorited")
            #expect(favorited.html.contains("How to train your dragon"))
            let authored = try await reader.get(client, "/profile/reader")
            #expect(authored.html.contains("No articles are here"))

            _ = try await reader.get(client, location)
            let deleted = try await reader.post(client, String(deleteAction), [])
            #expect(deleted.status == .seeOther)
            #expect(!(try await reader.get(client, location).html.contains("Great &lt;post&gt;!")))
            _ = try await reader.post(client, "/profile/author/follow", [("on", "0")])
            #expect(try await reader.get(client, "/profile/author").html.contains("Follow author"))
        }
    }

    @Test func settingsAndAPasswordChangeSignsOutOtherBrowsers() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var laptop = PageClient()
            _ = try await laptop.get(client, "/register")
            _ = try await laptop.post(client, "/register", [("username", "grace"), ("email", "grace@example.com"), ("password", "a-long-secret")])
            var phone = PageClient()
            _ = try await phone.get(client, "/login")
            _ = try await phone.post(client, "/login", [("email", "grace@example.com"), ("password", "a-long-secret")])
            #expect(try await phone.get(client, "/").html.contains("Sign out"))

            let form = try await laptop.get(client, "/settings")
            #expect(form.html.contains(#"value="grace@example.com""#))
            let bad = try await laptop.post(client, "/settings", [
                ("image", ""), ("username", "grace"), ("bio", ""), ("email", "not-an-email"), ("password", ""),
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.html.contains("email "))
            let bio = try await laptop.post(client, "/settings", [
                ("image", ""), ("username", "grace"), ("bio", "Admiral <b>"), ("email", "grace@example.com"), ("password", ""),
            ])
            #expect(bio.status == .seeOther)
            let saved = try await laptop.get(client, "/settings")
            #expect(saved.html.contains("Your settings were saved."))
            #expect(saved.html.contains("Admiral &lt;b&gt;</textarea>"))
            #expect(try await phone.get(client, "/").html.contains("Sign out"), "no new password: other sessions stay")

            let changed = try await laptop.post(client, "/settings", [
                ("image", ""), ("username", "grace"), ("bio", "Admiral"), ("email", "grace@example.com"), ("password", "another-long-secret"),
            ])
            #expect(changed.status == .seeOther)
            #expect(try await laptop.get(client, "/settings").html.contains("other sessions were signed out"))
            #expect(try await phone.get(client, "/").html.contains(#"<a href="/login">Sign in</a>"#), "the phone was signed out")
            _ = try await phone.get(client, "/login")
            let old = try await phone.post(client, "/login", [("email", "grace@example.com"), ("password", "a-long-secret")])
            #expect(old.status == .unprocessableContent)
        }
    }

    @Test func anAuthorEditsAndDeletesTheirArticleAndNobodyElseCan() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            var author = PageClient()
            _ = try await author.get(client, "/register")
            _ = try await author.post(client, "/register", [("username", "writer"), ("email", "writer@example.com"), ("password", "a-long-secret")])
            _ = try await author.get(client, "/editor")
            let published = try await author.post(client, "/editor", [("title", "First title"), ("description", "d"), ("body", "b"), ("tagList", "")])
            let location = try #require(published.headers[.location])
            let slug = String(location.dropFirst("/article/".count))
            let edit = try await author.get(client, "/editor/\(slug)")
            #expect(edit.html.contains(#"value="First title""#))
            let saved = try await author.post(client, "/editor/\(slug)", [("title", "Second title"), ("description", "d"), ("body", "b2")])
            #expect(saved.status == .seeOther)
            let moved = try #require(saved.headers[.location])
            #expect(try await author.get(client, moved).html.contains("<h1>Second title</h1>"))

            var other = PageClient()
            _ = try await other.get(client, "/register")
            _ = try await other.post(client, "/register", [("username", "other"), ("email", "other@example.com"), ("password", "a-long-secret")])
            let newSlug = String(moved.dropFirst("/article/".count))
            #expect(try await other.get(client, "/editor/\(newSlug)").status == .forbidden)
            _ = try await other.get(client, moved)
            #expect(try await other.post(client, "/article/\(newSlug)/delete", []).status == .forbidden)

            _ = try await author.get(client, moved)
            #expect(try await author.post(client, "/article/\(newSlug)/delete", []).status == .seeOther)
            #expect(try await author.get(client, moved).status == .notFound)
        }
    }
}
