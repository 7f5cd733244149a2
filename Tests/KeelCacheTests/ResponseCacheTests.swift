import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
@testable import KeelCache
import KeelTesting
import Testing

/// Routes whose answers the tests cache, each counting its runs.
struct CachedPages: KeelModule {
    let runs: Runs
    var gate = Gate()

    var name: String { "pages" }

    /// A run counted, answered with these headers.
    func counted(_ headers: HTTPFields) -> Response {
        runs.tick()
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "run \(runs.value)")))
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let cached = routes.group(.web.cached(for: .seconds(60), sharedMaxAge: .seconds(30), statuses: [200]))
        cached.get("/page") { _, context -> HTML in
            runs.tick()
            context.tagCachedResponse("page")
            return HTML("<p>run \(runs.value) for \(context.identity.userID ?? "anyone")</p><script nonce=\"\(context.cspNonce)\">1</script>")
        }
        cached.get("/slow") { _, _ -> String in
            runs.tick()
            await gate.wait()
            return "made once"
        }
        cached.get("/sets-cookie") { _, _ in counted([.setCookie: "theme=dark"]) }
        cached.get("/writes-session") { _, context -> String in
            runs.tick()
            context.session["seen"] = "yes"
            return "run \(runs.value)"
        }
        cached.get("/private") { _, _ in counted([.cacheControl: "private"]) }
        cached.get("/missing") { _, _ -> String in
            runs.tick()
            throw KeelError(.notFound)
        }
        let mine = routes.group(.web.cached(for: .seconds(60), sharing: .perUser))
        mine.get("/mine") { _, context -> String in
            runs.tick()
            return "run \(runs.value) for \(context.identity.userID ?? "anyone")"
        }
        routes.web.get("/sign-in/{user}") { _, context -> String in
            context.session.login(userID: try context.parameters.require("user"))
            return "in"
        }
        routes.api.get("/api/card") { request, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            if request.uri.queryParameters["dated"] != nil { headers[.lastModified] = "Tue, 01 Dec 2026 10:00:00 GMT" }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"title":"card"}"#)))
        }
    }
}

struct HTML: ResponseGenerator {
    let text: String
    init(_ text: String) { self.text = text }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

extension KeelTestApplication {
    static func pages(_ runs: Runs, gate: Gate = Gate(), clock: ManualClock? = nil) async throws -> KeelTestApplication {
        let app = try await make(modules: [CachedPages(runs: runs, gate: gate)], values: ["database.url": "sqlite://:memory:"], clock: clock)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }
}

/// The nonce the response's CSP header gives.
func cspNonce(_ response: TestResponse) -> String? {
    guard let policy = response.headers[HTTPField.Name("Content-Security-Policy")!],
          let range = policy.range(of: "'nonce-") else { return nil }
    return String(policy[range.upperBound...].prefix { $0 != "'" })
}

@Suite struct ResponseCacheTests {
    /// An anonymous page is made once and served from the cache with `Age`, its own request's CSP nonce, a weak ETag,
    /// `Cache-Control: public, s-maxage` for a proxy and `Vary: Cookie`; purging its tag, or its time passing, makes it again.
    @Test func anonymousPagesAreServedFromTheCache() async throws {
        let runs = Runs()
        let clock = ManualClock()
        let app = try await KeelTestApplication.pages(runs, clock: clock)
        try await app.application().test(.router) { client in
            let first = try await client.execute(uri: "/page", method: .get)
            #expect(first.status == .ok)
            #expect(first.headers[.age] == nil)
            let second = try await client.execute(uri: "/page", method: .get)
            #expect(runs.value == 1, "the second answer came from the cache")
            #expect(second.headers[.age] == "0")
            #expect(String(buffer: second.body).hasPrefix("<p>run 1 for anyone</p>"))
            let nonce = try #require(cspNonce(second))
            #expect(nonce != cspNonce(first), "each answer has its own nonce")
            #expect(String(buffer: second.body).contains("nonce=\"\(nonce)\""), "and the cached body carries it")
            #expect(second.headers[.cacheControl] == "public, max-age=0, s-maxage=30")
            #expect(second.headers[.vary] == "Cookie")
            #expect(second.headers[.setCookie] == nil)
            #expect(second.headers[.eTag]?.hasPrefix("W/\"") == true)
            // In development the lookup is named beside the queries: stored by the first answer, a hit (no query) for the second.
            let timing = HTTPField.Name("Server-Timing")!
            #expect(first.headers[values: timing].contains { $0.hasPrefix("cache;") && $0.hasSuffix(#"desc="stored""#) })
            #expect(first.headers[values: timing].contains { $0.hasPrefix("db;") })
            #expect(second.headers[values: timing].contains { $0.hasPrefix("cache;") && $0.hasSuffix(#"desc="hit""#) })
            #expect(second.headers[values: timing].contains { $0.hasPrefix("db;") && $0.hasSuffix(#"desc="0 queries""#) })

            clock.advance(by: .seconds(20))
            #expect(try await client.execute(uri: "/page", method: .get).headers[.age] == "20")
            #expect(try await client.execute(uri: "/page?sort=new", method: .get).status == .ok)
            #expect(runs.value == 2, "another query is another answer")

            #expect(await app.keel.cache.delete(tagged: "page") == 4, "two answers, each stored with the Vary record that finds it")
            _ = try await client.execute(uri: "/page", method: .get)
            #expect(runs.value == 3, "purged by its tag")
            clock.advance(by: .seconds(61))
            _ = try await client.execute(uri: "/page", method: .get)
            #expect(runs.value == 4, "expired")
        }
    }

    /// Fifty concurrent requests for a page nobody has asked for yet make it once: the others wait and read it.
    @Test func fiftyConcurrentRequestsOnAColdPageRenderItOnce() async throws {
        let runs = Runs()
        let gate = Gate()
        let app = try await KeelTestApplication.pages(runs, gate: gate)
        let flights = app.keel.cache.flights
        try await app.application().test(.router) { client in
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask { String(buffer: try await client.execute(uri: "/slow", method: .get).body) }
                }
                #expect(await eventually { flights.waiting(for: "flight anonymous /slow?") == 49 })
                gate.open()
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(runs.value == 1, "the handler ran once")
            #expect(bodies.count == 50 && bodies.allSatisfy { $0 == "made once" })
        }
    }

    /// A signed-in person never gets the anonymous copy and never leaves theirs behind: their answers are private.
    @Test func signedInRequestsSkipTheSharedCopy() async throws {
        let runs = Runs()
        let app = try await KeelTestApplication.pages(runs)
        try await app.application().test(.router) { client in
            _ = try await client.execute(uri: "/page", method: .get)
            let key = try #require(try await client.execute(uri: "/sign-in/alice", method: .get).sessionKey)
            let mine = try await client.execute(uri: "/page", method: .get, headers: .sessionCookie(key))
            #expect(String(buffer: mine.body).hasPrefix("<p>run 2 for alice</p>"))
            #expect(mine.headers[.cacheControl] == "private, no-cache")
            #expect(mine.headers[.vary] == "Cookie")
            let anonymous = try await client.execute(uri: "/page", method: .get)
            #expect(String(buffer: anonymous.body).hasPrefix("<p>run 1 for anyone</p>"), "alice's page was not stored for others")
            _ = try await client.execute(uri: "/page", method: .get, headers: .sessionCookie(key))
            #expect(runs.value == 3, "nor for herself")
        }
    }

    /// Per-user caching keeps one copy per person.
    @Test func perUserCachingKeepsEachPersonsOwn() async throws {
        let runs = Runs()
        let app = try await KeelTestApplication.pages(runs)
        try await app.application().test(.router) { client in
            let alice = try #require(try await client.execute(uri: "/sign-in/alice", method: .get).sessionKey)
            let bob = try #require(try await client.execute(uri: "/sign-in/bob", method: .get).sessionKey)
            let a1 = try await client.execute(uri: "/mine", method: .get, headers: .sessionCookie(alice))
            let b1 = try await client.execute(uri: "/mine", method: .get, headers: .sessionCookie(bob))
            let a2 = try await client.execute(uri: "/mine", method: .get, headers: .sessionCookie(alice))
            let b2 = try await client.execute(uri: "/mine", method: .get, headers: .sessionCookie(bob))
            #expect(String(buffer: a1.body) == "run 1 for alice" && String(buffer: a2.body) == "run 1 for alice")
            #expect(String(buffer: b1.body) == "run 2 for bob" && String(buffer: b2.body) == "run 2 for bob")
            #expect(a2.headers[.cacheControl] == "private, no-cache")
            #expect(runs.value == 2)
            #expect(a1.headers[.eTag] != nil && a2.headers[.eTag] == a1.headers[.eTag], "the ETag kept with the answer is the one it had")
            let again = try await client.execute(uri: "/mine", method: .get, headers: HTTPFields([
                HTTPField(name: .cookie, value: "keel_session=\(alice)"), HTTPField(name: .ifNoneMatch, value: a1.headers[.eTag] ?? ""),
            ]))
            #expect(again.status == .notModified, "and a cached answer is a 304 too")
            #expect(again.headers[values: .vary] == a1.headers[values: .vary] && again.headers[.cacheControl] == "private, no-cache",
                    "a 304 keeps every Vary field and the Cache-Control of the answer it stands for")
        }
    }

    /// What is never stored: an answer setting a cookie, one made while the session changed, a private one, a status
    /// the group does not allow.
    @Test func answersThatMustNotBeSharedAreNotStored() async throws {
        let runs = Runs()
        let app = try await KeelTestApplication.pages(runs)
        try await app.application().test(.router) { client in
            for path in ["/sets-cookie", "/writes-session", "/private", "/missing"] {
                let before = runs.value
                let first = try await client.execute(uri: path, method: .get)
                let second = try await client.execute(uri: path, method: .get)
                #expect(runs.value == before + 2, "\(path) ran twice")
                #expect(second.headers[.age] == nil, "\(path) was not served from the cache")
                if path != "/sets-cookie" {
                    #expect(first.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("theme") })
                }
            }
        }
    }

    /// Every GET answer with a body gets a weak ETag; `If-None-Match` (weak or strong form, a list, `*`) and
    /// `If-Modified-Since` get a bodiless 304; anything else the full answer.
    @Test func conditionalRequestsGetA304() async throws {
        let app = try await KeelTestApplication.pages(Runs())
        try await app.application().test(.router) { client in
            let first = try await client.execute(uri: "/api/card", method: .get)
            let tag = try #require(first.headers[.eTag])
            #expect(tag.hasPrefix("W/\"") && tag.count == 26, "128 bits of SHA-256, base64url")
            let again = try await client.execute(uri: "/api/card", method: .get)
            #expect(again.headers[.eTag] == tag, "the same body, the same tag")
            for match in [tag, String(tag.dropFirst(2)), "\"other\", \(tag)", "*"] {
                let response = try await client.execute(uri: "/api/card", method: .get, headers: [.ifNoneMatch: match])
                #expect(response.status == .notModified, "\(match)")
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == tag)
            }
            #expect(try await client.execute(uri: "/api/card", method: .get, headers: [.ifNoneMatch: "W/\"other\""]).status == .ok)
            let since = try await client.execute(uri: "/api/card?dated=1", method: .get, headers: [.ifModifiedSince: "Wed, 02 Dec 2026 10:00:00 GMT"])
            #expect(since.status == .notModified)
            let older = try await client.execute(uri: "/api/card?dated=1", method: .get, headers: [.ifModifiedSince: "Mon, 30 Nov 2026 10:00:00 GMT"])
            #expect(older.status == .ok)
            let post = try await client.execute(uri: "/api/card", method: .post, headers: [.ifNoneMatch: "*"])
            #expect(post.status != .notModified)
        }
    }

    /// Caching for everyone on a group that reads sessions or tokens is refused, naming the group and the fix.
    @Test func cachingEveryoneOnAGroupWithCredentialsIsRefused() {
        let everyone = ResponseCachePolicy(ttl: .seconds(10), sharing: .everyone)
        let problem = everyone.problem(on: .web.cached(for: .seconds(10), sharing: .everyone), readsCredentials: true)
        #expect(problem?.contains("web.cached") == true && problem?.contains(".anonymous") == true)
        #expect(everyone.problem(on: .static, readsCredentials: false) == nil)
        #expect(ResponseCachePolicy(ttl: .seconds(10)).problem(on: .web, readsCredentials: true) == nil)
    }
}

@Suite struct ByteReplacementTests {
    func replace(_ text: String, _ needle: String, _ with: String) -> String? {
        Bytes.replacingAll(Array(needle.utf8), with: Array(with.utf8), in: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every occurrence, at the start, the end, side by side; a near miss is left; nothing found is `nil`.
    @Test func replacesEveryOccurrence() {
        #expect(replace("abcabc", "abc", "X") == "XX")
        #expect(replace("nonce=N1;x=N1", "N1", "longer") == "nonce=longer;x=longer")
        #expect(replace("aaab", "aab", "-") == "a-")
        #expect(replace("N", "N1", "x") == nil)
        #expect(replace("no match here", "zz", "x") == nil)
        #expect(replace("", "a", "b") == nil)
    }
}
