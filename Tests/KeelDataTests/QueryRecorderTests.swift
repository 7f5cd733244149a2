import FluentKit
import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import SQLKit
import Testing

@Suite struct QueryRecorderTests {
    @Test func fingerprintsDropLiteralsAndWhitespace() {
        #expect(QueryFingerprint.normalize("SELECT * FROM users WHERE id = 42 AND name = 'O''Brien'") == "SELECT * FROM users WHERE id = ? AND name = ?")
        #expect(QueryFingerprint.normalize("SELECT  a1,\n b FROM t2 WHERE x = $1 LIMIT 20") == "SELECT a1, b FROM t2 WHERE x = $1 LIMIT ?")
        #expect(QueryFingerprint.normalize("SELECT 3.14") == "SELECT ?")
    }

    @Test(arguments: TestDatabase.available)
    func recordsFluentAndRawStatementsWithoutValues(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url)
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            let database = app.keel.database
            let (_, stats) = try await QueryRecorder.recording {
                try await database.sql.insert(into: "notes").columns("title", "author").values(SQLBind("secret title"), SQLBind("ann")).run()
                _ = try await database.db.query(NoteModel.self).filter(\.$author == "ann").all()
                _ = try await database.db.query(NoteModel.self).filter(\.$author == "bob").all()
            }
            #expect(stats.count == 3)
            #expect(stats.fingerprints.count == 2)
            #expect(stats.fingerprints[1].count == 2)
            #expect(stats.fingerprints.allSatisfy { !$0.fingerprint.contains("secret") && !$0.fingerprint.contains("ann") })
            #expect(stats.totalNanoseconds > 0)
            await database.shutdown()
        }
    }

    @Test func nestedRecordersBothSeeStatements() async throws {
        let app = try await KeelTestApplication.notes(url: "sqlite://:memory:")
        let database = app.keel.database
        let (inner, outer) = try await QueryRecorder.recording {
            try await QueryRecorder.recording {
                try await database.sql.raw("SELECT 1").run()
            }.stats
        }
        #expect(inner.count == 1)
        #expect(outer.count == 1)
        await database.shutdown()
    }
}

/// A FluentKit model over the notes table. `@unchecked Sendable`: FluentKit models are reference types whose
/// property wrappers are not Sendable; each instance is used by one task at a time.
final class NoteModel: Model, @unchecked Sendable {
    static let schema = "notes"
    @ID(custom: "id") var id: Int?
    @Field(key: "title") var title: String
    @Field(key: "author") var author: String
    init() {}
}

@Suite struct RequestQueryReportingTests {
    @Test func developmentResponsesCarryServerTiming() async throws {
        let app = try await KeelTestApplication.notes(url: "sqlite://:memory:", profile: .development)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/notes/count", method: .get) { response in
                #expect(response.status == .ok)
                let timing = try #require(response.headers[.serverTiming])
                #expect(timing.hasPrefix("db;dur="))
                #expect(timing.hasSuffix(#"desc="1 queries""#))
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func productionResponsesDoNot() async throws {
        let app = try await KeelTestApplication.notes(
            url: "sqlite://:memory:", profile: .production,
            values: ["signing.key": String(repeating: "k3y!", count: 10), "http.allowedHosts": "localhost", "security.sslRedirect": "false"])
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/notes/count", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.serverTiming] == nil)
            }
        }
        await app.keel.database.shutdown()
    }

    @Test(arguments: TestDatabase.available)
    func anNPlusOneIsAnErrorInTheTestProfile(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url)
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/notes/n-plus-one", method: .get) { response in
                    #expect(response.status == .internalServerError)
                    #expect(String(buffer: response.body).contains("database.n_plus_one"))
                }
            }
            let report = try #require(app.logObjects.first { $0["msg"] == "N+1 query" })
            #expect(report["level"] == "error")
            #expect(report["db.count"] == "6")
            #expect(report["http.route"] == "/notes/n-plus-one")
            #expect(report["db.fingerprint"]?.contains("notes") == true)
            await app.keel.database.shutdown()
        }
    }

    @Test func anNPlusOneIsAWarningInDevelopmentAndCanBeIgnored() async throws {
        let development = try await KeelTestApplication.notes(url: "sqlite://:memory:", profile: .development)
        try await development.keel.database.prepare()
        try await development.keel.migrator.migrate()
        try await development.application().test(.router) { client in
            try await client.execute(uri: "/notes/n-plus-one", method: .get) { #expect($0.status == .ok) }
        }
        #expect(development.logObjects.first { $0["msg"] == "N+1 query" }?["level"] == "warning")
        await development.keel.database.shutdown()

        let ignoring = try await KeelTestApplication.notes(url: "sqlite://:memory:", values: ["database.nPlusOne": "ignore"])
        try await ignoring.keel.database.prepare()
        try await ignoring.keel.migrator.migrate()
        try await ignoring.application().test(.router) { client in
            try await client.execute(uri: "/notes/n-plus-one", method: .get) { #expect($0.status == .ok) }
        }
        #expect(!ignoring.logObjects.contains { $0["msg"] == "N+1 query" })
        await ignoring.keel.database.shutdown()
    }

    @Test func slowQueriesAreLoggedWithFingerprintNeverValues() async throws {
        let app = try await KeelTestApplication.notes(url: "sqlite://:memory:", values: ["database.slowQueryThreshold": "0.001ms"])
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        try await app.keel.database.sql.insert(into: "notes").columns("title", "author").values(SQLBind("t"), SQLBind("very-private-author")).run()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/notes/count", method: .get, headers: [.xRequestID: "slow-1"]) { #expect($0.status == .ok) }
        }
        let slow = app.logObjects.filter { $0["msg"] == "slow query" }
        #expect(!slow.isEmpty)
        #expect(slow.contains { $0["keel.request.id"] == "slow-1" && $0["db.fingerprint"]?.contains("COUNT") == true })
        #expect(slow.allSatisfy { !($0["db.fingerprint"] ?? "").contains("very-private-author") })
        #expect(slow.contains { $0["db.fingerprint"] == #"INSERT INTO "notes" ("title", "author") VALUES (?1, ?2)"# })
        await app.keel.database.shutdown()
    }

    /// Work done for the whole instance inside a request (a shared list's reload) is not the request's: a recorder
    /// around it sees the statements before and after, not those in `unrecorded`.
    @Test func unrecordedStatementsAreNobodysCost() async throws {
        let app = try await KeelTestApplication.notes(url: "sqlite://:memory:")
        try await app.keel.database.prepare()
        let database = app.keel.database
        let (_, stats) = try await QueryRecorder.recording {
            try await database.sql.raw("SELECT 1 AS one").run()
            try await QueryRecorder.unrecorded {
                try await database.sql.raw("SELECT 2 AS two").run()
                try await database.sql.raw("SELECT 3 AS three").run()
            }
            try await database.sql.raw("SELECT 4 AS four").run()
        }
        #expect(stats.count == 2)
        #expect(stats.fingerprints.map(\.fingerprint) == ["SELECT ? AS one", "SELECT ? AS four"])
        await database.shutdown()
    }

    @Test func aQueryBudgetSeesTheRequestsQueries() async throws {
        let app = try await KeelTestApplication.notes(url: "sqlite://:memory:", values: ["database.nPlusOne": "ignore"])
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        try await app.application().test(.router) { client in
            let (_, cheap) = try await expectQueries(atMost: 1) {
                try await client.execute(uri: "/notes/count", method: .get) { #expect($0.status == .ok) }
            }
            #expect(cheap.count == 1)
            let (_, costly) = try await QueryRecorder.recording {
                try await client.execute(uri: "/notes/n-plus-one", method: .get) { _ in }
            }
            #expect(costly.count == 6)
            #expect(costly.repeated(atLeast: 5).count == 1)
        }
        await app.keel.database.shutdown()
    }
}
