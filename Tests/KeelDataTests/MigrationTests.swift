import FluentKit
import Foundation
import Keel
import KeelTesting
import SQLKit
import Testing

@Suite struct MigrationTests {
    @Test(arguments: TestDatabase.available)
    func applyPlanStatusAndRollBackToANamedMigration(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url)
            let migrator = app.keel.migrator
            try await app.keel.database.prepare()

            #expect(try await migrator.plan().filter { $0.module == "notes" } == [
                .init(module: "notes", name: "notes.0001_create_notes", direction: .apply),
                .init(module: "notes", name: "notes.0002_index_author", direction: .apply),
            ])
            #expect(try await migrator.pending().count == 10)  // Keel's own eight (sessions, login failures, login checks in flight, token revocations, access, elevation log, audit trail, cache) and the module's two

            let results = try await migrator.migrate()
            #expect(results.map(\.1) == Array(repeating: .done, count: 10))
            #expect(try await migrator.pending().isEmpty)
            #expect(try await tables(app.keel.database).contains("notes"))
            #expect(try await indexes(app.keel.database).contains("notes_author_title_idx"))
            let status = try await migrator.status()
            #expect(status.migrations.allSatisfy { $0.appliedAt != nil })
            #expect(status.unknownApplied.isEmpty)

            // Back to the first: the index goes, the table stays.
            #expect(try await migrator.plan(to: .named("notes.0001_create_notes")) == [
                .init(module: "notes", name: "notes.0002_index_author", direction: .revert)
            ])
            try await migrator.migrate(to: .named("notes.0001_create_notes"))
            #expect(!(try await indexes(app.keel.database).contains("notes_author_title_idx")))
            #expect(try await tables(app.keel.database).contains("notes"))
            #expect(try await migrator.pending().map(\.name) == ["notes.0002_index_author"])

            // Forward again, then all the way back.
            try await migrator.migrate(to: .named("notes.0002_index_author"))
            #expect(try await migrator.pending().isEmpty)
            try await migrator.migrate(to: .zero)
            #expect(!(try await tables(app.keel.database).contains("notes")))
            #expect(!(try await tables(app.keel.database).contains("keel_sessions")))
            #expect(try await migrator.pending().count == 10)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func aFailingMigrationLeavesNoTraceAndSaysWhichAndWhy(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let broken = NamedMigration("notes.0003_broken", prepare: { db in
                try await db.schema("half_done").field("id", .int, .identifier(auto: true)).create()
                try await (db as! any SQLDatabase).raw("INSERT INTO no_such_table (x) VALUES (1)").run()
            }, revert: { _ in })
            let after = NamedMigration("notes.0004_after", prepare: { db in
                try await db.schema("after").field("id", .int, .identifier(auto: true)).create()
            }, revert: { _ in })
            let app = try await KeelTestApplication.notes(url: url, extra: [broken, after])
            try await app.keel.database.prepare()
            do {
                try await app.keel.migrator.migrate()
                Issue.record("the broken migration should fail")
            } catch let error as MigrationError {
                #expect(error.code == "migration.failed")
                #expect(error.migration == "notes.0003_broken")
                #expect(error.description.contains("notes.0003_broken"))
                #expect(error.description.lowercased().contains("no_such_table"))
            }
            let names = try await tables(app.keel.database)
            #expect(names.contains("notes"))
            #expect(!names.contains("half_done"))
            #expect(!names.contains("after"))
            #expect(try await app.keel.migrator.pending().map(\.name) == ["notes.0003_broken", "notes.0004_after"])
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func twoMigratorsStartedTogetherNeverBothRunAMigration(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            // Each migration records a row per run: if both instances ran it, there would be two.
            func counting(_ name: String) -> NamedMigration {
                NamedMigration(name, prepare: { db in
                    let sql = db as! any SQLDatabase
                    try await sql.insert(into: "runs").columns("migration").values(SQLBind(name)).run()
                    try await Task.sleep(for: .milliseconds(150))
                }, revert: { _ in })
            }
            let setup = NamedMigration("notes.0003_runs", prepare: { db in
                try await db.schema("runs").field("migration", .string, .required).create()
            }, revert: { _ in })
            let extra: [any KeelMigration] = [setup, counting("notes.0004_a"), counting("notes.0005_b"), counting("notes.0006_c")]
            // Two applications: two independent pools, as two instances of a deployment would have.
            let first = try await KeelTestApplication.notes(url: url, extra: extra)
            let second = try await KeelTestApplication.notes(url: url, extra: extra)
            try await first.keel.database.prepare()
            try await second.keel.database.prepare()

            async let one = first.keel.migrator.migrate()
            async let two = second.keel.migrator.migrate()
            let (a, b) = try await (one, two)

            for name in ["notes.0001_create_notes", "notes.0002_index_author", "notes.0003_runs", "notes.0004_a", "notes.0005_b", "notes.0006_c"] {
                let done = (a + b).filter { $0.0.name == name && $0.1 == .done }.count
                #expect(done == 1, "\(name) ran \(done) times")
            }
            let rows = try await first.keel.database.sql.select().column("migration").from("runs").all()
            #expect(rows.count == 3)
            #expect(try await first.keel.migrator.pending().isEmpty)
            await first.keel.database.shutdown()
            await second.keel.database.shutdown()
        }
    }

    @Test func duplicateMigrationNamesAreRefused() async throws {
        let twice = NamedMigration("notes.0001_create_notes", prepare: { _ in }, revert: { _ in })
        do {
            _ = try await KeelTestApplication.notes(url: "sqlite://:memory:", extra: [twice])
            Issue.record("expected a duplicate-name error")
        } catch let error as MigrationError {
            #expect(error.code == "migration.duplicate_name")
        }
    }

    @Test func anUnknownTargetIsAClearError() async throws {
        let app = try await KeelTestApplication.notes(url: "sqlite://:memory:")
        await #expect(throws: MigrationError.self) { try await app.keel.migrator.plan(to: .named("notes.9999_nope")) }
        await app.keel.database.shutdown()
    }
}
