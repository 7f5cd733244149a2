public import ArgumentParser
public import KeelData
public import KeelKernel
public import KeelSettings
import KeelOps
import KeelAuth
import CoreMetrics

/// Keel's cache as a module: `app.cache`, a key-value cache of `Codable` values with tags, versioned keys and single
/// flight (`KeelCache`).
///
/// - Settings: `cache.store`, `cache.maxBytes`, `cache.defaultTTL`, `cache.version`, `cache.keyPrefix`,
///   `cache.waitTimeout` (`CacheSettings`).
/// - Tables (`cache.0001_entries`): `keel_cache`, `keel_cache_tags` (the `database` store).
/// - Parts: `app.cache` (`KeelCache`), which is also a Hummingbird `PersistDriver`; the invalidator, a `ChangeObserver`
///   that deletes the tags a write to a table a `CacheInvalidatingModule` lists makes stale.
/// - Commands: `cache clear|stats`.
/// - Metrics: `keel_cache_{hits,misses,evictions,errors,wait_timeouts}_total` and `keel_cache_{bytes,entries}`,
///   labelled with the store.
///
/// Needs `OpsModule` before it (its metrics registry).
public struct CacheModule: KeelModule {
    public init() {}

    public var name: String { "cache" }
    public var settings: [any AnySetting] { CacheSettings.all }
    /// The database store's table exists whichever store is chosen, so switching needs no migration.
    public var migrations: [any KeelMigration] { [SQLCacheStore.migration] }
    public var commands: [any ParsableCommand.Type] { [CacheCommand.self] }

    public func install(into parts: inout KeelApplication.Parts) throws {
        let configuration = CacheConfiguration(parts.settings)
        let metrics = CacheMetrics(store: configuration.store.rawValue, factory: parts.part(KeelMetrics.self).factory)
        let observe: @Sendable (Int, CacheUsage) -> Void = { evicted, usage in
            if evicted > 0 { metrics.evictions.increment(by: Int64(evicted)) }
            metrics.bytes.record(usage.bytes)
            metrics.entries.record(usage.entries)
        }
        let store: any CacheStore = switch configuration.store {
        case .memory: MemoryCacheStore(limit: configuration.maxBytes, observe: observe)
        case .database: SQLCacheStore(database: parts.database, limit: configuration.maxBytes, observe: observe)
        }
        let cache = KeelCache(store: store, settings: configuration, clock: parts.clock, logger: parts.logger, metrics: metrics)
        parts.install(cache)
        let invalidations = parts.modules.compactMap { $0 as? any CacheInvalidatingModule }.flatMap(\.cacheInvalidations)
        parts.install(CacheInvalidator(cache: cache, invalidations: invalidations))
    }

    /// `cache.responses` (slot `handler`) in every group that caches its answers or answers conditional requests.
    /// A group caching for everyone while it reads sessions or tokens stops the application as it assembles.
    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        let policy = app.cache.settings.responses ? group.responseCache : nil
        let conditional = group[ConditionalRequests.self]
        guard policy != nil || conditional else { return [] }
        let readsCredentials = group.loadsSessions || group.authenticatesTokens
        if let problem = group.responseCache?.problem(on: group, readsCredentials: readsCredentials) { preconditionFailure(problem) }
        return [.wrapper(.handler, "cache.responses", ResponseCacheStage(
            cache: app.cache.scoped("responses"), policy: policy, conditional: conditional,
            loadsSessions: group.loadsSessions, readsTokens: group.authenticatesTokens,
            serverTiming: app.settings[DatabaseSettings.serverTiming]))]
    }
}

extension KeelApplication {
    /// The key-value cache (`CacheModule`).
    public var cache: KeelCache { part(KeelCache.self) }
}
