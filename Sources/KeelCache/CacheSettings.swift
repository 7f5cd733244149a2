public import KeelSettings

/// Which store holds the cache.
public enum CacheStoreKind: String, Sendable, SettingEnum {
    /// This process's memory, least recently used first out (`MemoryCacheStore`).
    case memory
    /// A table in the application's database, shared by every instance (`SQLCacheStore`).
    case database
}

/// The cache module's settings keys.
public enum CacheSettings {
    public static let store = Setting<CacheStoreKind>(
        "cache.store", default: .memory,
        doc: "Where cached values live: `memory` (this process, least recently used first out) or `database` (the keel_cache table, shared by every instance, oldest first out). Both are bounded by cache.maxBytes.")
    public static let maxBytes = Setting<Int>(
        "cache.maxBytes", default: 64 * 1024 * 1024, allowed: .range(64 * 1024 ... 64 * 1024 * 1024 * 1024),
        doc: "The most the store holds, in bytes (keys, values and tags, plus 64 bytes an entry).")
    public static let defaultTTL = Setting<Duration>(
        "cache.defaultTTL", default: .seconds(300), allowed: .range(.seconds(1) ... .seconds(365 * 86_400)),
        doc: "How long a value is kept when the call gives no ttl.")
    public static let version = Setting<Int>(
        "cache.version", default: 1, allowed: .range(1...1_000_000),
        doc: "Part of every key: raising it makes every value cached before unreachable (a release whose values changed shape).")
    public static let keyPrefix = Setting<String>(
        "cache.keyPrefix", default: "",
        allowed: .init(allowed: "up to 64 letters, digits, '-', '_' or '.'") { value in
            value.count <= 64 && value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
                ? nil : "must be up to 64 letters, digits, '-', '_' or '.'"
        },
        doc: "Put before every key, for applications that share one store.")
    public static let waitTimeout = Setting<Duration>(
        "cache.waitTimeout", default: .seconds(10), allowed: .range(.milliseconds(10) ... .seconds(300)),
        doc: "How long a request waits for another request that is producing the same missing value (then a 503 with Retry-After).")

    public static let responses = Setting<Bool>(
        "cache.responses", default: true,
        doc: "Serve the GET answers of route groups declared .cached(for:) from the cache. Off: every request reaches its handler (ETags and 304s stay).")

    public static var all: [any AnySetting] { [store, maxBytes, defaultTTL, version, keyPrefix, waitTimeout, responses] }
}

/// The resolved cache settings.
struct CacheConfiguration: Sendable, Equatable {
    var store: CacheStoreKind
    var maxBytes: Int
    var defaultTTL: Duration
    var version: Int
    var keyPrefix: String
    var waitTimeout: Duration
    var responses: Bool

    init(_ settings: ResolvedSettings) {
        store = settings[CacheSettings.store]
        maxBytes = settings[CacheSettings.maxBytes]
        defaultTTL = settings[CacheSettings.defaultTTL]
        version = settings[CacheSettings.version]
        keyPrefix = settings[CacheSettings.keyPrefix]
        waitTimeout = settings[CacheSettings.waitTimeout]
        responses = settings[CacheSettings.responses]
    }
}
