import Foundation
import Keel
import KeelTesting
import SQLKit
import Testing

extension KeelTestApplication {
    /// An application whose cache is the database store on `url`, migrated.
    static func databaseCached(_ url: String, values: [String: String] = [:], clock: ManualClock? = nil) async throws -> KeelTestApplication {
        var all = values
        all["database.url"] = url
        all["cache.store"] = "database"
        let app = try await make(values: all, clock: clock)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }
}

@Suite struct SQLCacheStoreTests {
    /// The same API on the database store: typed values, expiry, add, delete, tags, clear.
    @Test(arguments: TestDatabase.available)
    func keepsValuesInTheDatabase(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.databaseCached(url, clock: clock)
            let cache = app.keel.cache
            #expect(cache.storeName == "database")
            await cache.set("card", Card(title: "Stored", likes: 1), ttl: .seconds(60), tags: ["user:1", "article:a"])
            await cache.set("page", "<p>π</p>", tags: ["article:a"])
            await cache.set("other", 5)
            #expect(await cache.get("card", as: Card.self) == Card(title: "Stored", likes: 1))
            #expect(await cache.get("page", as: String.self) == "<p>π</p>")
            let rows = try await app.keel.database.sql.select().column("key").from("keel_cache_tags").where("key", .equal, "app.v1:card").all()
            #expect(rows.count == 2)

            clock.advance(by: .seconds(60))
            #expect(await cache.get("card", as: Card.self) == nil, "expired")
            #expect(await cache.add("card", Card(title: "Again", likes: 2)), "an expired entry is replaced by add")
            #expect(await cache.add("card", Card(title: "Third", likes: 3)) == false, "a live one is not")
            #expect(await cache.get("card", as: Card.self) == Card(title: "Again", likes: 2))

            #expect(await cache.delete(tagged: "article:a") == 1, "only `page` still carries the tag: `card` was rewritten without tags")
            #expect(await cache.get("page", as: String.self) == nil)
            let orphans = try await app.keel.database.sql.select().column("tag").from("keel_cache_tags").where("key", .equal, "app.v1:page").all()
            #expect(orphans.isEmpty, "a deleted entry's tags go with it")
            await cache.delete("other")
            #expect(await cache.get("other", as: Int.self) == nil)
            #expect(try await cache.usage().entries == 1)
            try await cache.clear()
            #expect(try await cache.usage() == CacheUsage(entries: 0, bytes: 0, limit: 64 * 1024 * 1024))
        }
    }

    /// Two instances on one database see each other's values and deletions.
    @Test(arguments: TestDatabase.available)
    func instancesShareTheStore(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            guard url != "sqlite://:memory:" else { return }
            let first = try await KeelTestApplication.databaseCached(url).keel.cache
            let second = try await KeelTestApplication.databaseCached(url).keel.cache
            let runs = Runs()
            #expect(try await first.getOrSet("shared") { runs.tick(); return 41 } == 41)
            #expect(try await second.getOrSet("shared") { runs.tick(); return 42 } == 41, "the second instance reads the first one's value")
            #expect(runs.value == 1)
            await second.delete("shared")
            #expect(await first.get("shared", as: Int.self) == nil)
        }
    }

    /// Writes clean up as they go: expired entries first, then the oldest while the store is over its size.
    @Test(arguments: TestDatabase.available)
    func staysWithinItsSize(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            // 64 KiB: about 30 entries of 2 kB.
            let app = try await KeelTestApplication.databaseCached(url, values: ["cache.maxBytes": "65536"], clock: clock)
            let cache = app.keel.cache
            let value = String(repeating: "v", count: 2_000)
            for index in 0..<10 { await cache.set("short\(index)", value, ttl: .seconds(5)) }
            clock.advance(by: .seconds(10))
            for index in 0..<90 {
                clock.advance(by: .milliseconds(10))
                await cache.set("item\(index)", value, ttl: .seconds(3600))
            }
            let usage = try await cache.usage()
            // The 100th write (item89) cleaned up: down to nine tenths of the limit.
            #expect(usage.bytes <= 65_536 * 9 / 10 + 2_200 && usage.entries >= 20, "\(usage)")
            let shorts = try await app.keel.database.sql.select().column("key").from("keel_cache").where("key", .like, "%short%").all()
            #expect(shorts.isEmpty, "the expired entries went first")
            #expect(await cache.get("item89", as: String.self) == value, "the newest stay")
            #expect(await cache.get("item0", as: String.self) == nil, "the oldest went")
        }
    }

    /// A database store that fails (its table is gone) is a miss, logged and counted, never an error to the caller.
    @Test func aFailingStoreIsAMiss() async throws {
        let app = try await KeelTestApplication.databaseCached("sqlite://:memory:")
        try await app.keel.database.sql.drop(table: "keel_cache_tags").run()
        try await app.keel.database.sql.drop(table: "keel_cache").run()
        let cache = app.keel.cache
        await cache.set("k", 1)
        #expect(await cache.get("k", as: Int.self) == nil)
        #expect(try await cache.getOrSet("k") { 7 } == 7)
        #expect(app.logs.lines.contains { $0.contains("cache.store_failed") })
        let text = String(decoding: app.keel.part(KeelMetrics.self).render(), as: UTF8.self)
        #expect(text.contains(#"keel_cache_errors_total{store="database"} 4"#), "\(text)")
    }
}
