import FluentKit
public import Foundation
public import KeelData
public import SQLKit
import Synchronization

/// The shared store: entries in the application's database (`keel_cache`, tags in `keel_cache_tags`), in the manner
/// of Rails' Solid Cache: no second server to run, every instance sees every entry, and the size stays bounded
/// without a sweeper. Expired entries are never returned; writes clean up as they go: every `cleanupEvery` writes
/// of this process delete up to 500 expired entries, then, when the entries' bytes pass `limit`, the oldest until they
/// are down to nine tenths of it.
public final class SQLCacheStore: CacheStore {
    public let name = "database"
    public let limit: Int
    let database: KeelDatabase
    let cleanupEvery: Int
    private let writes = Mutex(0)
    private let observe: @Sendable (_ evicted: Int, _ usage: CacheUsage) -> Void

    static let entries = "keel_cache"
    static let tags = "keel_cache_tags"

    public init(database: KeelDatabase, limit: Int, cleanupEvery: Int = 50,
                observe: @escaping @Sendable (_ evicted: Int, _ usage: CacheUsage) -> Void = { _, _ in }) {
        self.database = database
        self.limit = limit
        self.cleanupEvery = max(1, cleanupEvery)
        self.observe = observe
    }

    /// `cache.0001_entries`: the entries (by key; oldest first by `created_at`) and their tags.
    static var migration: any KeelMigration {
        NamedMigration("cache.0001_entries", prepare: { db in
            let sql = db.sql
            try await sql.create(table: entries)
                .column("key", type: .text, .primaryKey(autoIncrement: false))
                .column("value", type: .blob, .notNull)
                .column("expires_at", type: .bigint)
                .column("created_at", type: .bigint, .notNull)
                .column("byte_size", type: .bigint, .notNull)
                .run()
            try await db.createIndex("keel_cache_created_idx", on: entries, columns: ["created_at"])
            try await db.createIndex("keel_cache_expires_idx", on: entries, columns: ["expires_at"])
            try await sql.create(table: tags)
                .column("tag", type: .text, .notNull)
                .column("key", type: .text, .notNull, .references(entries, "key", onDelete: .cascade))
                .primaryKey("tag", "key")
                .run()
            try await db.createIndex("keel_cache_tags_key_idx", on: tags, columns: ["key"])
        }, revert: { db in
            try await db.sql.drop(table: tags).ifExists().run()
            try await db.sql.drop(table: entries).ifExists().run()
        })
    }

    public func get(_ key: String, now: Date) async throws -> CacheEntry? {
        guard let row = try await database.sql.select().column("value").column("expires_at").from(Self.entries)
            .where("key", .equal, key).first() else { return nil }
        let expires = try row.decodeIfPresent(column: "expires_at", as: Int64.self).map(Self.date)
        if let expires, expires <= now { return nil }
        let value = try row.decode(column: "value", as: Data.self)
        // Its tags stay in their table: no reader needs them back.
        return CacheEntry(value: Array(value), expires: expires)
    }

    public func set(_ key: String, _ entry: CacheEntry, now: Date) async throws {
        _ = try await write(key, entry, now: now, onlyIfAbsent: false)
    }

    public func add(_ key: String, _ entry: CacheEntry, now: Date) async throws -> Bool {
        try await write(key, entry, now: now, onlyIfAbsent: true)
    }

    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try await database.write { tx in
            try await tx.sql.delete(from: Self.entries).where("key", .equal, key).returning("key").all().count > 0
        }
    }

    /// Their tags go with them (`ON DELETE CASCADE`).
    @discardableResult
    public func delete(tagged tag: String) async throws -> Int {
        try await database.write { tx in try await self.delete(tagged: tag, in: tx.sql) }
    }

    public func delete(tagged tags: Set<String>, inTransactionOf sql: any SQLDatabase) async throws {
        for tag in tags.sorted() { try await delete(tagged: tag, in: sql) }
    }

    /// Deletes the tagged entries in a transaction already open.
    @discardableResult
    func delete(tagged tag: String, in sql: any SQLDatabase) async throws -> Int {
        let keys = SQLSubquery.select { $0.column("key").from(Self.tags).where("tag", .equal, tag) }
        return try await sql.delete(from: Self.entries).where("key", .in, keys).returning("key").all().count
    }

    public func clear() async throws {
        try await database.write { tx in
            try await tx.sql.delete(from: Self.tags).run()
            try await tx.sql.delete(from: Self.entries).run()
        }
    }

    public func usage() async throws -> CacheUsage {
        let row = try await database.sql.raw("SELECT COUNT(*) AS entries, CAST(COALESCE(SUM(byte_size), 0) AS BIGINT) AS bytes FROM \(ident: Self.entries)").first()
        return CacheUsage(entries: Int(try row?.decode(column: "entries", as: Int64.self) ?? 0),
                          bytes: Int(try row?.decode(column: "bytes", as: Int64.self) ?? 0), limit: limit)
    }

    /// Writes the entry and its tags in one transaction (replacing what the key held, unless `onlyIfAbsent` and it
    /// holds a live entry); every `cleanupEvery` writes, cleans up after it.
    private func write(_ key: String, _ entry: CacheEntry, now: Date, onlyIfAbsent: Bool) async throws -> Bool {
        let cost = entry.cost(key: key)
        guard cost <= limit else {
            try await delete(key)
            return false
        }
        let nowMicros = Self.micros(now)
        let written = try await database.write { tx -> Bool in
            let sql = tx.sql
            if onlyIfAbsent {
                // A live entry stays; an expired one is replaced.
                try await sql.delete(from: Self.entries).where("key", .equal, key).where("expires_at", .lessThanOrEqual, nowMicros).run()
            }
            var insert = sql.insert(into: Self.entries).columns("key", "value", "expires_at", "created_at", "byte_size")
                .values(SQLBind(key), SQLBind(Data(entry.value)), SQLBind(entry.expires.map(Self.micros)), SQLBind(nowMicros), SQLBind(Int64(cost)))
            if onlyIfAbsent {
                insert = insert.ignoringConflicts(with: ["key"])
            } else {
                insert = insert.onConflict(with: ["key"]) { update in
                    update.set(excludedValueOf: "value").set(excludedValueOf: "expires_at").set(excludedValueOf: "created_at")
                        .set(excludedValueOf: "byte_size")
                }
            }
            guard try await insert.returning("key").all().count > 0 else { return false }
            try await sql.delete(from: Self.tags).where("key", .equal, key).run()
            if !entry.tags.isEmpty {
                var tags = sql.insert(into: Self.tags).columns("tag", "key")
                for tag in entry.tags.sorted() { tags = tags.values(SQLBind(tag), SQLBind(key)) }
                try await tags.run()
            }
            return true
        }
        let due = writes.withLock { count in
            count += 1
            return count % cleanupEvery == 0
        }
        if due { try await cleanUp(now: now) }
        return written
    }

    /// Deletes up to 500 expired entries, then the oldest 500 at a time while the entries pass `limit`; tells the
    /// observer how many went and what is left.
    func cleanUp(now: Date) async throws {
        let expired = SQLSubquery.select {
            $0.column("key").from(Self.entries).where("expires_at", .lessThanOrEqual, Self.micros(now)).limit(500)
        }
        try await database.write { tx in try await tx.sql.delete(from: Self.entries).where("key", .in, expired).run() }
        var usage = try await usage()
        var evicted = 0
        // Down to nine tenths of the limit, so the next writes do not each evict again.
        while usage.bytes > limit, usage.entries > 0 {
            let excess = usage.bytes - limit * 9 / 10
            let oldest = try await database.sql.select().column("key").column("byte_size").from(Self.entries)
                .orderBy("created_at").limit(500).all()
            var keys: [String] = []
            var freed = 0
            for row in oldest where freed < excess {
                keys.append(try row.decode(column: "key", as: String.self))
                freed += Int(try row.decode(column: "byte_size", as: Int64.self))
            }
            guard !keys.isEmpty else { break }
            evicted += try await database.write { [keys] tx in
                try await tx.sql.delete(from: Self.entries).where("key", .in, keys).returning("key").all().count
            }
            usage = try await self.usage()
        }
        observe(evicted, usage)
    }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
}
