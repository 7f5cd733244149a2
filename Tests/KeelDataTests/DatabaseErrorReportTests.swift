import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import SQLKit
import Testing

/// A database error reaches the operator in the server's words (PostgreSQL's SQLSTATE, message, detail and the table or
/// constraint it names), never as PostgresNIO's "Generic description to prevent accidental leakage…", and never with
/// a bound value.
@Suite struct DatabaseErrorReportTests {
    @Test(arguments: TestDatabase.available)
    func aConstraintViolationNamesTheStateTheTableAndTheConstraint(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url)
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            let sql = app.keel.database.sql
            do {
                try await sql.insert(into: "keel_migrations").columns("name", "module", "applied_at")
                    .values(SQLBind("notes.0001_create_notes"), SQLBind("notes"), SQLBind("now")).run()
                Issue.record("a duplicate primary key was accepted")
            } catch {
                let report = DatabaseErrorReport.describe(error)
                #expect(!report.contains("Generic description"))
                switch backend {
                case .postgres:
                    #expect(report.hasPrefix("PostgreSQL error 23505: duplicate key value violates unique constraint"))
                    #expect(report.contains("table: keel_migrations"))
                    #expect(report.contains("constraint: keel_migrations_pkey"))
                    #expect(report.contains("detail: Key (name)=(notes.0001_create_notes) already exists."))
                case .sqlite:
                    #expect(report.contains("UNIQUE constraint failed: keel_migrations.name"))
                }
            }
            await app.keel.database.shutdown()
        }
    }

    /// A statement that fails in a request is a 500 whose log line says what the server said, without the binds.
    @Test(arguments: TestDatabase.available)
    func aFailedStatementInARequestIsLoggedInTheServersWords(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url)
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/notes/broken", method: .get) { response in
                    #expect(response.status == .internalServerError)
                    #expect(!String(buffer: response.body).contains("missing_table"), "the client learns nothing of the cause")
                }
            }
            let line = try #require(app.logs.lines.first { $0.contains("unhandled error") })
            switch backend {
            case .postgres:
                #expect(line.contains("PostgreSQL error 42P01: relation \\\"missing_table\\\" does not exist"), "\(line)")
            case .sqlite:
                #expect(line.contains("no such table: missing_table"), "\(line)")
            }
            #expect(!line.contains("bound-secret-value"))
            #expect(!line.contains("Generic description"))
            await app.keel.database.shutdown()
        }
    }
}
