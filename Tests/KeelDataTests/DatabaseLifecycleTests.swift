import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import SQLKit
import Testing

@Suite struct DatabaseURLTests {
    @Test func parsesEachForm() {
        #expect(DatabaseURL("sqlite://var/conduit.sqlite3") == .sqliteFile(path: "var/conduit.sqlite3"))
        #expect(DatabaseURL("sqlite:///srv/app/db.sqlite3") == .sqliteFile(path: "/srv/app/db.sqlite3"))
        #expect(DatabaseURL("sqlite://:memory:") == .sqliteMemory)
        #expect(DatabaseURL("postgres://u:p@db:5432/app") == .postgres(url: "postgres://u:p@db:5432/app"))
        #expect(DatabaseURL("postgresql://u@db/app") != nil)
        #expect(DatabaseURL("mysql://u@db/app") == nil)
        #expect(DatabaseURL("sqlite://") == nil)
        #expect(DatabaseURL("var/conduit.sqlite3") == nil)
    }

    @Test func redactsPasswords() {
        #expect(DatabaseURL("postgres://keel:hunter2@db:5432/app")?.redacted == "postgres://keel:********@db:5432/app")
        #expect(DatabaseURL("postgres://keel@db/app")?.redacted == "postgres://keel@db/app")
    }

    @Test func aBadURLIsASettingsProblemThatIsNeverPrinted() async {
        do {
            _ = try await KeelTestApplication.resolveSettings(values: ["database.url": "mysql://root:hunter2@db/app"])
            Issue.record("expected a settings problem")
        } catch let error as SettingsError {
            let problem = error.problems.first
            #expect(problem?.key == "database.url")
            #expect(problem?.value == "********")
            #expect(!error.description.contains("hunter2"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct DatabaseLifecycleTests {
    /// `KeelDatabase.transaction { sql in … }` commits what the closure wrote when it returns, rolls all of it back when
    /// it throws, and hands back the closure's value.
    @Test(arguments: TestDatabase.available)
    func transactionsCommitOrRollBackAsAWhole(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url, profile: .test)
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            let database = app.keel.database
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.transaction { sql in
                    try await sql.insert(into: "notes").columns("title", "author").values(SQLBind("lost"), SQLBind("a")).run()
                    try await sql.insert(into: "notes").columns("title", "author").values(SQLBind("lost too"), SQLBind("a")).run()
                    throw Abort()
                }
            }
            let kept = try await database.transaction { sql -> Int in
                try await sql.insert(into: "notes").columns("title", "author").values(SQLBind("kept"), SQLBind("b")).run()
                try await sql.insert(into: "notes").columns("title", "author").values(SQLBind("kept too"), SQLBind("b")).run()
                return 2
            }
            #expect(kept == 2)
            let titles = try await database.sql.select().column("title").from("notes").orderBy("title").all()
                .map { try $0.decode(column: "title", as: String.self) }
            #expect(titles == ["kept", "kept too"])
            await database.shutdown()
        }
    }

    /// `decodeIfPresent` reads NULL as `nil` and a value as itself, on both databases, like `decode(column:as: T?.self)`.
    @Test(arguments: TestDatabase.available)
    func nullableColumnsReadAsOptionals(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url, profile: .test)
            try await app.keel.database.prepare()
            let sql = app.keel.database.sql
            let rows = try await sql.raw("SELECT 'text' AS word, NULL AS empty, 7 AS number, CAST(NULL AS INTEGER) AS no_number").all()
            let row = try #require(rows.first)
            #expect(try row.decodeIfPresent(column: "word", as: String.self) == "text")
            #expect(try row.decodeIfPresent(column: "empty", as: String.self) == nil)
            #expect(try row.decodeIfPresent(column: "number", as: Int.self) == 7)
            #expect(try row.decodeIfPresent(column: "no_number", as: Int.self) == nil)
            #expect(try row.decodeIfPresent(column: "word", as: String.self) == row.decode(column: "word", as: String?.self))
            #expect(throws: (any Error).self) { try row.decodeIfPresent(column: "word", as: Int.self) }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func readinessWaitsForMigrationsAndChecksTheDatabase(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url, profile: .test)
            try await app.keel.database.prepare()
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = String(buffer: response.body)
                    #expect(body.contains("10 migrations pending"))
                    #expect(body.contains(#""name":"database""#))
                }
                try await app.keel.migrator.migrate()
                try await client.execute(uri: "/health/ready", method: .get) { #expect($0.status == .ok) }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(.enabled(if: DatabaseURL.postgresAvailable, "points at a PostgreSQL server that is not there"))
    func readinessFailsWhenTheDatabaseDoesNotAnswer() async throws {
        let app = try await KeelTestApplication.notes(url: "postgres://keel:secret-pw@127.0.0.1:1/none", values: ["database.poolTimeout": "1s"])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(!String(buffer: response.body).contains("secret-pw"))
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func sqliteFilesAreCreatedInWALModeWithForeignKeys() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let nested = url.replacingOccurrences(of: "/test.sqlite3", with: "/var/nested/app.sqlite3")
            let app = try await KeelTestApplication.notes(url: nested)
            try await app.keel.database.prepare()
            let path = String(nested.dropFirst("sqlite://".count))
            #expect(FileManager.default.fileExists(atPath: path))
            let mode = try await app.keel.database.sql.raw("PRAGMA journal_mode").all().first?.decode(column: "journal_mode", as: String.self)
            #expect(mode == "wal")
            let keys = try await app.keel.database.sql.raw("PRAGMA foreign_keys").all().first?.decode(column: "foreign_keys", as: Int.self)
            #expect(keys == 1)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: [Profile.development, Profile.staging])
    func serveMigratesInDevelopmentOnly(profile: Profile) async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(
                url: url, profile: profile,
                values: ["signing.key": String(repeating: "k3y!", count: 10), "http.port": "0", "http.allowedHosts": "localhost"])
            try await app.keel.buildApplication().test(.live) { client in
                let response = try await client.execute(uri: "/health/ready", method: .get)
                #expect(response.status == (profile == .development ? .ok : .serviceUnavailable))
            }
            #expect(try await app.keel.migrator.pending().isEmpty == (profile == .development))
            await app.keel.database.shutdown()
        }
    }
}
