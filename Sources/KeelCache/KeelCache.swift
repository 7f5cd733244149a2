import Foundation
import CoreMetrics
import HTTPTypes
public import KeelKernel
public import KeelCore
import Logging

/// The key-value cache: `app.cache`.
///
/// ```swift
/// let tags = try await app.cache.getOrSet("popular-tags", ttl: .seconds(60), tags: ["tags"]) {
///     try await loadPopularTags()            // run once, however many requests miss at the same moment
/// }
/// try await app.cache.delete(tagged: "tags")  // what a write that changes them does
/// let mine = app.cache.scoped("articles")     // keys of its own: `articles.v1:…`
/// ```
///
/// Values are any `Codable` (a `String` is kept as its UTF-8 bytes, anything else as JSON). Every key is prefixed
/// with `cache.keyPrefix`, the scope (a module's name) and a version (`cache.version`, or the one a call gives), so
/// bumping a version makes every older value unreachable at once. A store that fails is logged and treated as a
/// miss: a cache never fails the request that asked it.
public struct KeelCache: ApplicationPart {
    let store: any CacheStore
    let flights: SingleFlight
    let settings: CacheConfiguration
    let clock: @Sendable () -> Date
    let logger: Logger
    let metrics: CacheMetrics
    /// Purges made in this process (shared by every scope).
    let purges: PurgeCounter
    /// The scope keys are made in (`scoped(_:)`); empty: the application's own.
    public private(set) var scope = ""

    init(store: any CacheStore, settings: CacheConfiguration, clock: @escaping @Sendable () -> Date, logger: Logger, metrics: CacheMetrics) {
        self.store = store
        self.flights = SingleFlight()
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.purges = PurgeCounter()
    }

    /// The store's name (`cache.store`).
    public var storeName: String { store.name }

    /// The same cache with keys of their own: a module's (`app.cache.scoped("articles")`). Tags stay shared, so
    /// deleting `user:42` reaches every scope.
    public func scoped(_ scope: String) -> KeelCache {
        precondition(!scope.isEmpty && !scope.contains(":"), "a cache scope is a non-empty name without ':'")
        var scoped = self
        scoped.scope = self.scope.isEmpty ? scope : self.scope + "." + scope
        return scoped
    }

    /// The key as stored: prefix, scope, version, key.
    public func storedKey(_ key: String, version: Int? = nil) -> String {
        settings.keyPrefix + (scope.isEmpty ? "app" : scope) + ".v\(version ?? settings.version):" + key
    }

    // MARK: Reading and writing

    /// The value under `key`, or `nil` when it is missing, expired, or does not decode as `Value` (a value written by
    /// an older release: it is deleted).
    public func get<Value: Codable & Sendable>(_ key: String, as type: Value.Type = Value.self, version: Int? = nil) async -> Value? {
        let stored = storedKey(key, version: version)
        guard let entry = await lookup(stored) else { return nil }
        guard let value = decode(entry.value, as: type) else {
            await remove(stored)
            return nil
        }
        return value
    }

    /// Stores `value` under `key` for `ttl` (`cache.defaultTTL` when not given), deletable with any of `tags`.
    public func set<Value: Codable & Sendable>(_ key: String, _ value: Value, ttl: Duration? = nil, tags: Set<String> = [], version: Int? = nil) async {
        guard let bytes = encode(value) else { return }
        await put(storedKey(key, version: version), CacheEntry(value: bytes, expires: expiry(ttl), tags: tags))
    }

    /// Stores `value` only when nothing live is under `key`; returns whether it did.
    @discardableResult
    public func add<Value: Codable & Sendable>(_ key: String, _ value: Value, ttl: Duration? = nil, tags: Set<String> = [], version: Int? = nil) async -> Bool {
        guard let bytes = encode(value) else { return false }
        do {
            return try await store.add(storedKey(key, version: version), CacheEntry(value: bytes, expires: expiry(ttl), tags: tags), now: clock())
        } catch {
            failed(error, doing: "add")
            return false
        }
    }

    /// Removes the value under `key`.
    public func delete(_ key: String, version: Int? = nil) async {
        await remove(storedKey(key, version: version))
    }

    /// Removes every value tagged `tag`, in every scope; returns how many.
    @discardableResult
    public func delete(tagged tag: String) async -> Int {
        purges.advance()
        do {
            return try await store.delete(tagged: tag)
        } catch {
            failed(error, doing: "delete tagged")
            return 0
        }
    }

    /// Removes every value of every scope.
    public func clear() async throws {
        try await store.clear()
    }

    /// How much the store holds.
    public func usage() async throws -> CacheUsage {
        try await store.usage()
    }

    /// The value under `key`; when it is missing, `produce` makes it and it is stored for `ttl`. Concurrent calls
    /// for one missing key run `produce` once in this process: the others wait for its value, at most
    /// `cache.waitTimeout` (then `cache.wait_timeout`, a 503), and a `produce` that throws wakes them with its error.
    /// A producer whose own request was cancelled hands the work to one of those waiting.
    public func getOrSet<Value: Codable & Sendable>(
        _ key: String, ttl: Duration? = nil, tags: Set<String> = [], version: Int? = nil,
        _ produce: () async throws -> Value
    ) async throws -> Value {
        let stored = storedKey(key, version: version)
        for _ in 0..<4 {
            if let entry = await lookup(stored), let value = decode(entry.value, as: Value.self) { return value }
            switch flights.join(stored) {
            case .lead:
                let value: Value
                do {
                    value = try await produce()
                } catch {
                    flights.finish(stored, error is CancellationError ? .retry : .failure(error))
                    throw error
                }
                guard let bytes = encode(value) else {
                    flights.finish(stored, .retry)
                    return value
                }
                await put(stored, CacheEntry(value: bytes, expires: expiry(ttl), tags: tags))
                flights.finish(stored, .value(bytes))
                return value
            case .follow:
                switch await flights.wait(for: stored, timeout: settings.waitTimeout) {
                case .value(let bytes):
                    if let value = decode(bytes, as: Value.self) { return value }
                case .failure(let error):
                    throw error
                case .retry:
                    continue
                case .timedOut:
                    metrics.waitTimeouts.increment()
                    throw CacheError.waitTimedOut
                case .cancelled:
                    throw CancellationError()
                }
            }
        }
        // Handed over more than a few times (producers cancelled one after another): make it without waiting again.
        return try await produce()
    }

    /// The raw bytes under `key` (the response cache's own encoding).
    func bytes(_ key: String) async -> [UInt8]? {
        await lookup(storedKey(key))?.value
    }

    /// Stores raw bytes under `key`.
    func setBytes(_ key: String, _ bytes: [UInt8], ttl: Duration?, tags: Set<String>) async {
        await put(storedKey(key), CacheEntry(value: bytes, expires: expiry(ttl), tags: tags))
    }

    // MARK: Store calls, logged and counted

    func lookup(_ stored: String) async -> CacheEntry? {
        do {
            if let entry = try await store.get(stored, now: clock()) {
                metrics.hits.increment()
                return entry
            }
        } catch {
            failed(error, doing: "get")
        }
        metrics.misses.increment()
        return nil
    }

    func put(_ stored: String, _ entry: CacheEntry) async {
        do {
            try await store.set(stored, entry, now: clock())
        } catch {
            failed(error, doing: "set")
        }
    }

    func remove(_ stored: String) async {
        do {
            try await store.delete(stored)
        } catch {
            failed(error, doing: "delete")
        }
    }

    func expiry(_ ttl: Duration?) -> Date? {
        clock().addingTimeInterval((ttl ?? settings.defaultTTL).inSeconds)
    }

    private func failed(_ error: any Error, doing operation: String) {
        metrics.errors.increment()
        logger.warning("cache \(operation) failed; answered as a miss", metadata: [
            "event": "cache.store_failed", "keel.cache.store": "\(store.name)", "error": "\(String(describing: error))",
        ])
    }

    // MARK: Encoding

    func encode<Value: Encodable>(_ value: Value) -> [UInt8]? {
        if let text = value as? String { return Array(text.utf8) }
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            logger.error("cache value does not encode", metadata: ["event": "cache.encode_failed", "error": "\(String(describing: error))"])
            return nil
        }
    }

    func decode<Value: Decodable>(_ bytes: [UInt8], as type: Value.Type) -> Value? {
        if Value.self == String.self { return String(decoding: bytes, as: UTF8.self) as? Value }
        return try? JSONDecoder().decode(Value.self, from: Data(bytes))
    }
}

/// The cache's errors.
public enum CacheError {
    /// A `getOrSet` waited `cache.waitTimeout` for another request's producer: 503 with `Retry-After: 1`.
    public static var waitTimedOut: KeelError {
        KeelError(.serviceUnavailable, code: "cache.wait_timeout",
                  message: "The page is being prepared by another request; try again in a moment.", headers: [.retryAfter: "1"])
    }
}
