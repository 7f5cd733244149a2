public import Hummingbird
import KeelCore
import Foundation

/// `app.cache` as Hummingbird's `PersistDriver`, for what Hummingbird keeps with one (keys under the `persist`
/// scope). A cache may evict: keep nothing here that must not be lost.
extension KeelCache: PersistDriver {
    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let persist = scoped("persist")
        guard let bytes = persist.encode(value) else { throw PersistError.invalidConversion }
        let entry = CacheEntry(value: bytes, expires: persist.persistExpiry(expires), tags: [])
        guard try await store.add(persist.storedKey(key), entry, now: clock()) else { throw PersistError.duplicate }
    }

    /// Overwrites the value; with no `expires`, an existing value's expiry is kept (the protocol's rule).
    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let persist = scoped("persist")
        let stored = persist.storedKey(key)
        guard let bytes = persist.encode(value) else { throw PersistError.invalidConversion }
        var expiry = persist.persistExpiry(expires)
        if expires == nil, let existing = try await store.get(stored, now: clock()) { expiry = existing.expires }
        try await store.set(stored, CacheEntry(value: bytes, expires: expiry, tags: []), now: clock())
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let persist = scoped("persist")
        let now = clock()
        guard let entry = try await store.get(persist.storedKey(key), now: now) else { return nil }
        guard let object = persist.decode(entry.value, as: type) else { throw PersistError.invalidConversion }
        return (object, entry.expires.map { .milliseconds(Int64(($0.timeIntervalSince(now) * 1000).rounded())) })
    }

    public func remove(key: String) async throws {
        try await store.delete(scoped("persist").storedKey(key))
    }

    /// A persisted value without `expires` is kept until evicted.
    private func persistExpiry(_ expires: Duration?) -> Date? {
        expires.map { clock().addingTimeInterval($0.inSeconds) }
    }
}
