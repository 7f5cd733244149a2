import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelCLI
import KeelTesting
import Logging
import SQLKit
import Synchronization
import Testing

@Suite struct SeedTests {
    func seed(_ url: String, _ extra: [String] = []) async -> (Int32, String) {
        let lines = Mutex<[String]>([])
        let environment = CommandEnvironment(
            environment: ["DATABASE_URL": url, "KEEL_PROFILE": "development"],
            output: { line in lines.withLock { $0.append(line) } }, errorOutput: { line in lines.withLock { $0.append(line) } },
            bootstrap: { _, _ in Logger(label: "seed-test") { _ in SwiftLogNoOpLogHandler() } })
        let code = await KeelCommandLine<ConduitApp>.execute(
            arguments: ["seed", "--users", "6", "--articles", "12", "--comments", "20", "--favorites", "15", "--tags", "5"] + extra, in: environment)
        return (code, lines.withLock { $0.joined(separator: "\n") })
    }

    @Test(arguments: TestDatabase.available)
    func seedingIsDeterministicShowsProgressAndRefusesToRunTwice(backend: TestDatabase) async throws {
        var snapshots: [[String]] = []
        for _ in 0..<2 {
            try await backend.withFreshDatabase { url in
                let (code, output) = await seed(url)
                #expect(code == 0, "\(output)")
                #expect(output.contains("articles: 12/12"))
                #expect(output.contains("Seeded 6 users"))
                let again = await seed(url)
                #expect(again.0 == 1)
                #expect(again.1.contains("already seeded"))
                let app = try await KeelTestApplication.conduit(url: url)
                struct Row: Decodable {
                    let slug: String
                    let title: String
                    let n: Int
                }
                let rows = try await app.keel.database.sql.raw("""
                    SELECT a.slug, a.title, (SELECT COUNT(*) FROM favorites f WHERE f.article_id = a.id) AS n FROM articles a ORDER BY a.slug
                    """).all(decoding: Row.self)
                #expect(rows.count == 12)
                snapshots.append(rows.map { "\($0.slug) \($0.title) \($0.n)" })
                try await app.application().test(.router) { client in
                    try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                             body: body(["user": ["email": "seed_user_000@example.com", "password": "conduit-seed-pw"]])) {
                        #expect($0.status == .ok)
                    }
                }
                await app.keel.database.shutdown()
            }
        }
        #expect(snapshots[0] == snapshots[1])
    }
}

@Suite struct APIDocsAndCORSTests {
    /// `seed --help` says how to seed a staging or production server, which answers plain HTTP with a 301.
    @Test func seedHelpSaysHowToSeedADeployedServer() async throws {
        let lines = Mutex<[String]>([])
        let environment = CommandEnvironment(
            environment: [:], output: { line in lines.withLock { $0.append(line) } }, errorOutput: { line in lines.withLock { $0.append(line) } },
            bootstrap: { _, _ in Logger(label: "seed-test") { _ in SwiftLogNoOpLogHandler() } })
        let code = await KeelCommandLine<ConduitApp>.execute(arguments: ["seed", "--help"], in: environment)
        let help = lines.withLock { $0.joined(separator: "\n") }.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        #expect(code == 0)
        #expect(help.contains("writes to the database directly, not through HTTP"), "\(help)")
        #expect(help.contains("KEEL_PROFILE=production DATABASE_URL=... SIGNING_KEY=... conduit seed"), "\(help)")
        #expect(help.contains("X-Forwarded-Proto: https"), "\(help)")
    }

    @Test func theSpecIsServed() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/api/openapi.yml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("openapi: 3"))
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func corsIsOffByDefaultAndAnswersOnlyListedOrigins() async throws {
        let closed = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await closed.application().test(.router) { client in
            try await client.execute(uri: "/api/tags", method: .get, headers: [.origin: "https://app.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
        await closed.keel.database.shutdown()
        let open = try await KeelTestApplication.conduit(url: "sqlite://:memory:", values: ["cors.allowedOrigins": "https://app.example.com"])
        try await open.application().test(.router) { client in
            try await client.execute(uri: "/api/tags", method: .get, headers: [.origin: "https://app.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://app.example.com")
                #expect(response.headers[values: .vary].contains("Origin"))
            }
            try await client.execute(uri: "/api/articles", method: .options,
                                     headers: [.origin: "https://app.example.com", .accessControlRequestMethod: "POST"]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            }
            try await client.execute(uri: "/api/tags", method: .get, headers: [.origin: "https://evil.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
        await open.keel.database.shutdown()
    }
}
