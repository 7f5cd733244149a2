import FluentKit
import Foundation
import Keel
import KeelTesting
import SQLKit
import Testing

/// A module whose `notes` table makes cached values tagged `notes` stale, and a note's own tag when its title changes.
struct Notebook: CacheInvalidatingModule {
    var name: String { "notebook" }

    var cacheInvalidations: [CacheInvalidation] {
        [CacheInvalidation("notes", key: "id") { change in
            var tags: Set<String> = ["notes"]
            if change.changedColumns.contains("title") || change.action != .update { tags.insert("note:\(change.key)") }
            return tags
        }]
    }

    var migrations: [any KeelMigration] {
        [NamedMigration("notebook.0001_notes", prepare: { db in
            try await db.schema("notes").field("id", .int, .identifier(auto: true)).field("title", .string, .required)
                .field("views", .int, .required).create()
        }, revert: { db in try await db.schema("notes").delete() })]
    }
}

@Suite struct CacheInvalidationTests {
    /// A committed write to a listed table deletes its tags, in either store; a rolled-back write deletes nothing,
    /// and a change to a column the tags do not depend on leaves the note's own tag alone.
    @Test(arguments: ["memory"] + TestDatabase.available.map(\.rawValue))
    func writesDeleteWhatTheyMakeStale(store: String) async throws {
        let backend = store == "postgres" ? TestDatabase.postgres : .sqlite
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.make(modules: [Notebook()], values: [
                "database.url": url, "cache.store": store == "memory" ? "memory" : "database", "audit.enabled": "false",
            ])
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            let cache = app.keel.cache
            let database = app.keel.database
            let id = try await database.write { tx in
                try #require(try await tx.insert(into: "notes", ["title": "First", "views": 0])?.integer("id"))
            }
            await cache.set("list", "one note", tags: ["notes"])
            await cache.set("note", "First", tags: ["note:\(id)"])

            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.write { tx in
                    try await tx.update("notes", set: ["title": "Never"], where: RowFilter("id", .equal, id))
                    throw Abort()
                }
            }
            #expect(await cache.get("list", as: String.self) == "one note", "a rolled-back write purges nothing")

            try await database.write { tx in try await tx.update("notes", set: ["views": 1], where: RowFilter("id", .equal, id)) }
            #expect(await cache.get("list", as: String.self) == nil, "the list is stale")
            #expect(await cache.get("note", as: String.self) == "First", "the note's title did not change")

            try await database.write { tx in try await tx.update("notes", set: ["title": "Second"], where: RowFilter("id", .equal, id)) }
            #expect(await cache.get("note", as: String.self) == nil)
        }
    }

    /// With the database store, a write on one instance purges what another instance cached: the purge is in the
    /// write's transaction, in the table both read.
    @Test(arguments: TestDatabase.available)
    func aWriteOnOneInstancePurgesAnothersDatabaseCache(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let values = ["database.url": url, "cache.store": "database", "audit.enabled": "false"]
            let reader = try await KeelTestApplication.make(modules: [Notebook()], values: values)
            try await reader.keel.database.prepare()
            try await reader.keel.migrator.migrate()
            let writer = try await KeelTestApplication.make(modules: [Notebook()], values: values)
            try await writer.keel.database.prepare()
            await reader.keel.cache.set("list", "no notes", tags: ["notes"])
            #expect(await writer.keel.cache.get("list", as: String.self) == "no notes", "one table, both instances")
            try await writer.keel.database.write { tx in _ = try await tx.insert(into: "notes", ["title": "New", "views": 0]) }
            #expect(await reader.keel.cache.get("list", as: String.self) == nil, "the writer's purge reached the reader")
        }
    }
}
