public import Foundation
public import SQLKit

/// One stored value: its encoded bytes, when it expires, and the tags it can be deleted by.
public struct CacheEntry: Sendable, Equatable {
    public var value: [UInt8]
    /// When it stops being returned; `nil`: kept until evicted or deleted.
    public var expires: Date?
    /// Names to delete it by together with others (`user:42`, `article:how-to`).
    public var tags: Set<String>

    public init(value: [UInt8], expires: Date?, tags: Set<String> = []) {
        self.value = value
        self.expires = expires
        self.tags = tags
    }

    /// Whether it has expired at `now`.
    public func isExpired(at now: Date) -> Bool {
        expires.map { $0 <= now } ?? false
    }

    /// What it counts against a store's size: the key, the value and the tags, plus a fixed overhead per entry.
    func cost(key: String) -> Int {
        key.utf8.count + value.count + tags.reduce(0) { $0 + $1.utf8.count } + 64
    }
}

/// Where the cache keeps its entries (`cache.store`). Keys arrive complete (prefix, module, version); a store
/// never interprets them.
public protocol CacheStore: Sendable {
    /// The store's name in metrics and reports (`memory`, `database`).
    var name: String { get }
    /// The entry under `key`, unless it is missing or has expired at `now`.
    func get(_ key: String, now: Date) async throws -> CacheEntry?
    /// Stores `entry` under `key`, replacing what was there.
    func set(_ key: String, _ entry: CacheEntry, now: Date) async throws
    /// Stores `entry` only if `key` holds nothing live at `now`; returns whether it did.
    func add(_ key: String, _ entry: CacheEntry, now: Date) async throws -> Bool
    /// Removes `key`; returns whether it held a live entry.
    @discardableResult
    func delete(_ key: String) async throws -> Bool
    /// Removes every entry tagged `tag`; returns how many.
    @discardableResult
    func delete(tagged tag: String) async throws -> Int
    /// Removes everything.
    func clear() async throws
    /// How many entries and bytes it holds now.
    func usage() async throws -> CacheUsage
    /// Deletes the entries tagged with any of `tags` inside the write transaction `sql` belongs to, which is making
    /// them stale (`CacheInvalidator`): a store in that database does, so the purge commits or rolls back with the
    /// write. The default does nothing.
    func delete(tagged tags: Set<String>, inTransactionOf sql: any SQLDatabase) async throws
    /// Deletes the entries tagged with any of `tags` once such a write has committed, without waiting: a store in
    /// this process's memory does. The default does nothing.
    func deleteCommitted(tagged tags: Set<String>)
}

extension CacheStore {
    public func delete(tagged tags: Set<String>, inTransactionOf sql: any SQLDatabase) async throws {}
    public func deleteCommitted(tagged tags: Set<String>) {}
}

/// A store's size at one moment.
public struct CacheUsage: Sendable, Equatable, Codable {
    public var entries: Int
    public var bytes: Int
    /// The most it may hold (`cache.maxBytes`).
    public var limit: Int

    public init(entries: Int, bytes: Int, limit: Int) {
        self.entries = entries
        self.bytes = bytes
        self.limit = limit
    }
}
