import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

/// Conduit behind a real nginx running `deploy/nginx/conduit.conf`.
@Suite struct ProxyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// How many `GET /` requests reached Conduit (its own metrics).
    static func homeRequests(_ app: KeelTestApplication) -> Int {
        let text = String(decoding: app.keel.part(KeelMetrics.self).render(), as: UTF8.self)
        return text.split(separator: "\n").filter { $0.hasPrefix("keel_http_requests_total{") && $0.contains(#"route="/""#) && $0.contains(#"method="GET""#) }
            .compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    /// The anonymous home page is kept at the proxy (the second request never reaches Conduit) and carries no
    /// cookie; a signed-in person gets their own page through the proxy, never the anonymous one, and the anonymous
    /// copy never shows their name.
    @Test func anonymousPagesAreCachedAtTheProxyAndSignedInOnesNever() async throws {
        guard Nginx.executable != nil else {
            if ProcessInfo.processInfo.environment["KEEL_TEST_NGINX"] != nil { Issue.record("KEEL_TEST_NGINX is set but no nginx runs") }
            return
        }
        let site = try String(contentsOf: Self.root.appendingPathComponent("deploy/nginx/conduit.conf"), encoding: .utf8)
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url, values: ["http.port": "0"])
            try await app.withRunningServer(onPort: { port in
                let nginx = try await Nginx.start(site: site, upstreamPort: port)
                let client = TestClient(host: "127.0.0.1", port: nginx.port)
                client.connect()
                do {
                    try await Self.check(client, app: app)
                } catch {
                    Issue.record("through nginx: \(error); nginx's log: \(nginx.accessLog.suffix(1500))")
                }
                try? await client.shutdown()
                await nginx.stop()
            })
            await app.keel.database.shutdown()
        }
    }

    static func check(_ client: TestClient, app: KeelTestApplication) async throws {
        let first = try await client.execute(TestClient.Request("/", method: .get, authority: "localhost"))
        #expect(first.status == .ok)
        #expect(first.headers[HTTPField.Name("X-Cache-Status")!] == "MISS")
        #expect(first.headers[.cacheControl] == "public, max-age=0, s-maxage=5")
        let reached = homeRequests(app)
        let second = try await client.execute(TestClient.Request("/", method: .get, authority: "localhost"))
        #expect(second.headers[HTTPField.Name("X-Cache-Status")!] == "HIT")
        #expect(homeRequests(app) == reached, "the proxy answered: no request reached Conduit")
        #expect(second.body == first.body)
        #expect(second.headers[.setCookie] == nil && first.headers[.setCookie] == nil, "no cached answer sets a cookie")

        // Signed in through the proxy: their own page each time, never stored, never the anonymous copy.
        var browser = ProxyBrowser(client: client)
        _ = try await browser.get("/register")
        let created = try await browser.post("/register", [("username", "ada"), ("email", "ada@example.com"), ("password", "a-long-secret")])
        #expect(created.status == .seeOther)
        for _ in 0..<2 {
            let mine = try await browser.get("/")
            #expect(mine.html.contains(#"<a class="me" href="/profile/ada">ada</a>"#), "their own name in the navigation")
            #expect(!mine.html.contains(#"<a href="/login">Sign in</a>"#), "not the anonymous page")
            #expect(mine.headers[HTTPField.Name("X-Cache-Status")!] == "BYPASS")
            #expect(mine.headers[.cacheControl] == "private, no-cache")
        }
        let anonymous = try await client.execute(TestClient.Request("/", method: .get, authority: "localhost"))
        let shared = anonymous.body.map { String(buffer: $0) } ?? ""
        #expect(anonymous.headers[HTTPField.Name("X-Cache-Status")!] == "HIT")
        #expect(!shared.contains("ada"), "the shared copy never shows a signed-in person")
        #expect(shared.contains(#"<a href="/login">Sign in</a>"#))
    }
}

/// A browser's cookie and CSRF token over a raw client (the proxy is a real server, not the router).
struct ProxyBrowser {
    let client: TestClient
    var cookie: String?
    var token: String?

    mutating func get(_ uri: String) async throws -> (status: HTTPResponse.Status, html: String, headers: HTTPFields) {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = cookie }
        return try await send(TestClient.Request(uri, method: .get, authority: "localhost", headers: headers))
    }

    mutating func post(_ uri: String, _ fields: [(String, String)]) async throws -> (status: HTTPResponse.Status, html: String, headers: HTTPFields) {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        let all = fields + (token.map { [("csrf_token", $0)] } ?? [])
        let text = all.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await send(TestClient.Request(uri, method: .post, authority: "localhost", headers: headers, body: ByteBuffer(string: text)))
    }

    private mutating func send(_ request: TestClient.Request) async throws -> (status: HTTPResponse.Status, html: String, headers: HTTPFields) {
        let response = try await client.execute(request)
        for line in response.headers[values: .setCookie] where line.hasPrefix("keel_session=") {
            let value = String(line.prefix { $0 != ";" })
            cookie = value == "keel_session=" ? nil : value
        }
        let html = response.body.map { String(buffer: $0) } ?? ""
        if let found = html.firstMatch(of: /name="csrf_token" value="([A-Za-z0-9_-]+)"/)?.output.1 { token = String(found) }
        return (response.status, html, response.headers)
    }
}
