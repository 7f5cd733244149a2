import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import KeelWeb
import Keel
import Logging
import KeelTesting
import Testing

/// A template folder on disk, removed at the end of the test.
struct TemplateFolder {
    let path: String

    init(_ files: [String: String]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-web-\(UUID().uuidString)").path
        for (name, text) in files {
            let file = URL(fileURLWithPath: path).appendingPathComponent(name + ".mustache")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

struct Article {
    let title: String
    let subtitle: String?
}

struct Listing {
    let heading: String
    let articles: [Article]
    let note: String?
}

@Suite struct TemplateTests {
    @Test func valuesAreEscapedAndRawOnlyWhereWrittenRaw() throws {
        let set = try TemplateSet.compile(["page": "<h1>{{heading}}</h1>{{{note}}}"])
        let html = try Templates(set).render("page", Listing(heading: "<script>alert('x')</script> & co", articles: [], note: "<em>ok</em>"))
        #expect(html == "<h1>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</h1><em>ok</em>")
    }

    @Test func sectionsOptionalsAndTheOuterScope() throws {
        let set = try TemplateSet.compile([
            "list": "{{#articles}}<li>{{title}}{{#subtitle}}: {{subtitle}}{{/subtitle}} ({{heading}})</li>{{/articles}}{{^note}}no note{{/note}}",
        ])
        let html = try Templates(set).render("list", Listing(
            heading: "Feed", articles: [Article(title: "A", subtitle: "sub"), Article(title: "B", subtitle: nil)], note: nil))
        #expect(html == "<li>A: sub (Feed)</li><li>B (Feed)</li>no note")
    }

    @Test func aNameTheModelLacksIsAnErrorWhenStrict() throws {
        let set = try TemplateSet.compile(["page": "<h1>{{heding}}</h1>{{#articles}}{{titel}}{{/articles}}"])
        let model = Listing(heading: "x", articles: [Article(title: "A", subtitle: nil)], note: nil)
        #expect(throws: TemplateError.self) { try Templates(set).render("page", model) }
        do {
            _ = try Templates(set).render("page", model)
        } catch {
            #expect(error.kind == .missingVariables)
            #expect(error.description.contains("'heding', 'titel'"))
            #expect(error.description.contains("Listing"))
        }
        // Not strict: rendered empty (and logged by the page helper).
        #expect(try Templates(set, strict: false).render("page", model) == "<h1></h1>")
    }

    @Test func brokenFoldersAreRefusedWithWhereAndWhy() throws {
        #expect(throws: TemplateError.folderMissing("/nonexistent/templates")) { try TemplateSet.load(directory: "/nonexistent/templates") }
        do {
            _ = try TemplateSet.compile(["layout": "{{> header}}<main>{{{body}}}</main>"])
            Issue.record("a missing partial must be refused")
        } catch {
            #expect(error.kind == .missingPartial)
            #expect(error.description == "Template 'layout' includes 'header', which does not exist.")
        }
        do {
            _ = try TemplateSet.compile(["page": "line one\n{{#open}} never closed"])
            Issue.record("a template that does not parse must be refused")
        } catch {
            #expect(error.kind == .parse)
            #expect(error.description.hasPrefix("page.mustache:"))
        }
        do {
            _ = try Templates(try TemplateSet.compile([:])).render("nope", Listing(heading: "", articles: [], note: nil))
            Issue.record("a missing template must be refused")
        } catch {
            #expect(error.kind == .missingTemplate)
        }
    }

    @Test func developmentReadsEditsAndDeploymentsKeepWhatStartedWith() throws {
        let folder = try TemplateFolder(["page": "<p>one {{heading}}</p>"])
        defer { folder.remove() }
        let model = Listing(heading: "x", articles: [], note: nil)
        let reloading = try Templates(directory: folder.path, reloads: true)
        let compiled = try Templates(directory: folder.path, reloads: false)
        #expect(try reloading.render("page", model) == "<p>one x</p>")
        try "<p>two {{heading}}</p>".write(toFile: folder.path + "/page.mustache", atomically: true, encoding: .utf8)
        #expect(try reloading.render("page", model) == "<p>two x</p>", "web.templatesReload reads the edit")
        #expect(try compiled.render("page", model) == "<p>one x</p>", "compiled once at start otherwise")
    }

    @Test func foldersLoadBySubfolderNameAndKeelPartialsAreThere() throws {
        let folder = try TemplateFolder(["layout": "[{{> errors/part}}]", "errors/part": "inner"])
        defer { folder.remove() }
        let set = try TemplateSet.load(directory: folder.path)
        #expect(set.names.contains("errors/part"))
        #expect(set.names.contains("keel/csrf"))
        #expect(try Templates(set).render("layout", Listing(heading: "", articles: [], note: nil)) == "[inner]")
    }
}

@Suite struct FormAndRedirectTests {
    @Test func formsDecodeAndBadOnesAreClientErrors() throws {
        let form = try FormInput.parse("email=a%40b.example&bio=two+words&csrf_token=abc&mark=%E2%9C%93")
        #expect(form["email"] == "a@b.example")
        #expect(form["bio"] == "two words")
        #expect(form["mark"] == "✓")
        #expect(form["csrf_token"] == nil)
        var problems = ValidationProblems()
        #expect(form.string("missing", problems: &problems, required: true) == nil)
        #expect(form.string("bio", problems: &problems, maxLength: 3) == nil)
        #expect(problems.messages == ["missing": ["can't be blank"], "bio": ["is too long (at most 3 characters)"]])
        #expect(throws: KeelError.self) { try FormInput.parse("a=%ZZ") }
    }

    @Test(arguments: [
        ("/articles/x?tab=feed", "/articles/x?tab=feed"), ("https://evil.example/", "/"), ("//evil.example", "/"),
        ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("/a\r\nSet-Cookie: x", "/"), ("", "/"), ("relative", "/"),
    ])
    func nextGoesOnlyToThisSite(next: String, expected: String) {
        #expect(SafeRedirect.path(next) == expected)
    }
}

/// Pages the HTTP tests use.
struct Pages: KeelModule {
    var name: String { "pages" }

    struct Form: Encodable { let greeting: String }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let templates = app.templates
        routes.web.get("/form") { _, context in try templates.page("form", Form(greeting: "Hello <you>"), context: context) }
        routes.web.post("/form") { request, context -> Response in
            let form = try await FormInput.read(request, context: context)
            context.session.flash("Saved \(form["name"] ?? "?")", level: .success)
            return SafeRedirect.seeOther(SafeRedirect.path(form["next"]))
        }
        routes.web.get("/plain") { _, context in try templates.page("plain", Form(greeting: "hi"), context: context) }
        routes.web.get("/broken") { _, context in try templates.page("broken", Form(greeting: "hi"), context: context) }
        routes.web.get("/limited") { _, _ -> Response in throw KeelError(.tooManyRequests, message: "Slow down.", headers: [.retryAfter: "30"]) }
        struct SignUp: Encodable { let email: String?; let problems: FormProblems }
        routes.web.post("/signup") { request, context -> Response in
            let form = try await FormInput.read(request, context: context)
            return try await templates.form("signup", context: context, alsoFor: [.unauthorized], page: { SignUp(email: form["email"], problems: $0) }) {
                switch form["email"] {
                case "": throw KeelError.validation(["email": ["can't be blank"], "body": ["Check the form."]])
                case "locked@example.com": throw KeelError(.unauthorized, messages: ["email or password": ["is invalid"]])
                case "gone@example.com": throw KeelError(.gone, message: "Sign-ups are closed.")
                default: return SafeRedirect.seeOther("/")
                }
            }
        }
        let members = routes.group(.web.requiringSignIn(at: "/signin"))
        members.get("/members") { _, context in "welcome " + (context.identity.userID ?? "?") }
        members.post("/members/note") { _, _ in "noted" }
        routes.group(.api.requiringSignIn()).get("/api/members") { _, _ in "welcome" }
        routes.web.post("/test-login") { _, context -> String in
            context.session.login(userID: "5")
            return "in"
        }
    }
}

/// `Templates.form`: a submitted form that fails validation is its page again, with what was wrong and what was typed.
@Suite struct FormHelperTests {
    @Test func validationErrorsRenderTheFormAgainOthersPassThrough() async throws {
        let folder = try TemplateFolder(WebPagesTests.files)
        defer { folder.remove() }
        let app = try await WebPagesTests().app(folder)
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/signup", method: .post, headers: form, body: ByteBuffer(string: "email=")) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body) == #"<p class="error">Check the form.</p><p class="error">email can&#39;t be blank</p><input name="email" value=""><em>can&#39;t be blank</em>"#)
            }
            try await client.execute(uri: "/signup", method: .post, headers: form, body: ByteBuffer(string: "email=locked%40example.com")) { response in
                #expect(response.status == .unprocessableContent, "a status asked for with alsoFor is shown on the form too")
                #expect(String(buffer: response.body).contains("email or password is invalid"))
                #expect(String(buffer: response.body).contains(#"value="locked@example.com""#))
            }
            try await client.execute(uri: "/signup", method: .post, headers: form, body: ByteBuffer(string: "email=gone%40example.com")) { response in
                #expect(response.status == .gone, "other errors are not the form's")
            }
            try await client.execute(uri: "/signup", method: .post, headers: form, body: ByteBuffer(string: "email=a%40example.com")) {
                #expect($0.status == .seeOther)
            }
            // The body must be a form, by its media type (parameters and case aside); anything else is a 415.
            try await client.execute(uri: "/signup", method: .post, headers: [.contentType: "Application/X-WWW-Form-URLEncoded; charset=UTF-8"],
                                     body: ByteBuffer(string: "email=a%40example.com")) { #expect($0.status == .seeOther) }
            for type in ["application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencodedx", ""] {
                try await client.execute(uri: "/signup", method: .post, headers: type.isEmpty ? [:] : [.contentType: type],
                                         body: ByteBuffer(string: "email=a%40example.com")) { #expect($0.status == .unsupportedMediaType, "\(type)") }
            }
        }
        #expect(FormProblems(["b": ["x"], "a": ["y", "z"]]).sentences == ["a y", "a z", "b x"])
        #expect(FormProblems.none.sentences.isEmpty && FormProblems.none.fields.isEmpty)
    }
}

/// `requiringSignIn(at:)`: a group for signed-in people, declared where the routes are registered.
@Suite struct SignInRequirementTests {
    @Test func signedOutPeopleGoToSignInAndComeBack() async throws {
        let folder = try TemplateFolder(WebPagesTests.files)
        defer { folder.remove() }
        let app = try await WebPagesTests().app(folder)
        #expect(app.keel.stages(for: .web.requiringSignIn(at: "/signin")).map(\.name).contains("web.signIn"))
        #expect(!app.keel.stages(for: .web).map(\.name).contains("web.signIn"))
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/members?tab=a%20b&x=1", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/signin?next=%2Fmembers%3Ftab%3Da%2520b%26x%3D1")
            }
            // A form posted while signed out comes back to the page it was on (a page of this site only).
            try await client.execute(uri: "/members/note", method: .post, headers: [.referer: "http://localhost/notes/7?draft=1"]) {
                #expect($0.headers[.location] == "/signin?next=%2Fnotes%2F7%3Fdraft%3D1")
            }
            try await client.execute(uri: "/members/note", method: .post, headers: [.referer: "https://evil.example/notes"]) {
                #expect($0.headers[.location] == "/signin?next=%2F")
            }
            try await client.execute(uri: "/members/note", method: .post) { #expect($0.headers[.location] == "/signin?next=%2F") }
            // A JSON group says 401 in Keel's error format instead.
            try await client.execute(uri: "/api/members", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("Sign in to do this."))
            }
            let key = try await client.execute(uri: "/test-login", method: .post) { try #require($0.sessionKey) }
            try await client.execute(uri: "/members", method: .get, headers: .sessionCookie(key)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "welcome 5")
            }
        }
    }
}

@Suite struct WebPagesTests {
    static let files = [
        "form": #"<p>{{greeting}}</p><form method="post">{{> keel/csrf}}<input name="name"></form>{{> keel/flash}}"#,
        "plain": "{{> keel/flash}}<p>{{greeting}}</p><style nonce=\"{{keel.csp_nonce}}\">p{}</style>",
        "broken": "<p>{{greting}}</p>",
        "errors/default": "{{> keel/flash}}<style nonce=\"{{keel.csp_nonce}}\"></style><h1>{{status}} {{title}}</h1><p>{{explanation}}</p>{{#messages}}<li>{{.}}</li>{{/messages}}<code>{{request_id}}</code>",
        "errors/404": "<h1>Not here</h1><p>{{explanation}}</p>",
        "signup": #"{{#problems.sentences}}<p class="error">{{.}}</p>{{/problems.sentences}}<input name="email" value="{{email}}">{{#problems.fields.email}}<em>{{.}}</em>{{/problems.fields.email}}"#,
    ]

    func app(_ folder: TemplateFolder) async throws -> KeelTestApplication {
        let app = try await KeelTestApplication.make(
            modules: [WebModule(templates: folder.path), Pages()], values: ["database.url": "sqlite://:memory:"])
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }

    @Test func aFormCarriesItsTokenAndAPostWithItFlashesOnce() async throws {
        let folder = try TemplateFolder(Self.files)
        defer { folder.remove() }
        let app = try await app(folder)
        try await app.application().test(.router) { client in
            let page = try await client.execute(uri: "/form", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains("<p>Hello &lt;you&gt;</p>"))
            let token = try #require(html.firstMatch(of: /name="csrf_token" value="([A-Za-z0-9_-]+)"/)?.output.1)
            let cookie = try #require(page.headers[.setCookie]?.split(separator: ";").first.map(String.init))

            // Without the token the cookie is an ambient credential: refused, as the application's error page.
            let forged = try await client.execute(
                uri: "/form", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "name=x"))
            #expect(forged.status == .forbidden)
            #expect(String(buffer: forged.body).contains("security token is missing or does not match"))
            #expect(forged.headers[HTTPField.Name("Content-Security-Policy")!] != nil)
            #expect(forged.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")

            let posted = try await client.execute(
                uri: "/form", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "name=Ada&csrf_token=\(token)&next=%2F%2Fevil.example"))
            #expect(posted.status == .seeOther)
            #expect(posted.headers[.location] == "/", "an off-site next falls back")

            let shown = try await client.execute(uri: "/plain", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: shown.body).contains(#"<p class="flash flash-success" role="status">Saved Ada</p>"#))
            let again = try await client.execute(uri: "/plain", method: .get, headers: [.cookie: cookie])
            #expect(!String(buffer: again.body).contains("Saved Ada"), "a flash is shown once")
            // The nonce in the page is the one the policy allows.
            let nonce = try #require(String(buffer: again.body).firstMatch(of: /nonce="([^"]+)"/)?.output.1)
            #expect(again.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("'nonce-\(nonce)'") == true)
        }
    }

    /// An error page that shows the flash takes it for good: the session is saved after the page rendered, so the
    /// next page does not show it again.
    @Test func aFlashShownOnAnErrorPageIsNotShownAgain() async throws {
        let folder = try TemplateFolder(Self.files)
        defer { folder.remove() }
        let app = try await app(folder)
        try await app.application().test(.router) { client in
            let page = try await client.execute(uri: "/form", method: .get)
            let token = try #require(String(buffer: page.body).firstMatch(of: /name="csrf_token" value="([A-Za-z0-9_-]+)"/)?.output.1)
            let cookie = try #require(page.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let posted = try await client.execute(
                uri: "/form", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "name=Ada&csrf_token=\(token)"))
            #expect(posted.status == .seeOther)
            let error = try await client.execute(uri: "/limited", method: .get, headers: [.cookie: cookie])
            #expect(error.status == .tooManyRequests)
            #expect(String(buffer: error.body).contains("Saved Ada"), "the error page shows the flash")
            let next = try await client.execute(uri: "/plain", method: .get, headers: [.cookie: cookie])
            #expect(next.status == .ok)
            #expect(!String(buffer: next.body).contains("Saved Ada"), "and it is gone from the session")
        }
    }

    @Test func errorsBecomeTheApplicationsPagesWithTheirHeaders() async throws {
        let folder = try TemplateFolder(Self.files)
        defer { folder.remove() }
        let app = try await app(folder)
        try await app.application().test(.router) { client in
            let limited = try await client.execute(uri: "/limited", method: .get)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "30")
            let body = String(buffer: limited.body)
            #expect(body.contains("<h1>429 Too Many Requests</h1>"))
            #expect(body.contains("<li>Slow down.</li>"))
            #expect(body.contains("<code>\(limited.headers[HTTPField.Name("X-Request-ID")!] ?? "?")</code>"))
            let nonce = try #require(body.firstMatch(of: /nonce="([^"]+)"/)?.output.1)
            #expect(limited.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("'nonce-\(nonce)'") == true, "an error page's nonce is the header's")

            let missing = try await client.execute(uri: "/no/such/page", method: .get, headers: [.accept: "text/html"])
            #expect(missing.status == .notFound)
            #expect(String(buffer: missing.body).contains("<h1>Not here</h1>"))
            let missingJSON = try await client.execute(uri: "/no/such/page", method: .get, headers: [.accept: "application/json"])
            #expect(missingJSON.headers[.contentType]?.hasPrefix("application/json") == true)

            // A template that names what its model lacks is a 500 page in test (strict), not a blank.
            let broken = try await client.execute(uri: "/broken", method: .get)
            #expect(broken.status == .internalServerError)
            #expect(String(buffer: broken.body).contains("<h1>500 Internal Server Error</h1>"))
        }
        #expect(app.logs.lines.contains { $0.contains("greting") && $0.contains("template failed") })
    }

    @Test func theCheckNamesABrokenFolder() async throws {
        let settings = try await KeelTestApplication.resolveSettings(modules: [WebModule(templates: "/nonexistent/t")])
        let findings = KeelApplication.checks(name: "test-app", modules: [WebModule(templates: "/nonexistent/t")]).run(settings, deploy: false, silenced: [])
        #expect(findings.map(\.id) == [.templatesBroken])
        #expect(findings.first?.message.contains("/nonexistent/t") == true)
        #expect(throws: TemplateError.self) {
            _ = try KeelApplication(name: "test-app", settings: settings, modules: [WebModule(templates: "/nonexistent/t")], logger: .init(label: "t"))
        }
    }
}
