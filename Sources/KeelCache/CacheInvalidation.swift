public import KeelData
public import KeelKernel
import SQLKit
import Synchronization

/// What a write to one table makes stale: the tags to delete when a row of it changes through
/// `KeelDatabase.write` (a module lists them as a `CacheInvalidatingModule`).
///
/// ```swift
/// CacheInvalidation("articles", key: "id", tags: ["articles", "tags"])
/// CacheInvalidation("users", key: "id") { change in           // only what pages show
///     change.changedColumns.contains { ["username", "bio", "image"].contains($0) } ? ["articles", "comments"] : []
/// }
/// ```
public struct CacheInvalidation: Sendable {
    public let table: TrackedTable
    let tags: @Sendable (RowChange) -> Set<String>

    public init(_ table: String, key: [String], tags: @escaping @Sendable (RowChange) -> Set<String>) {
        self.table = TrackedTable(table, key: key)
        self.tags = tags
    }

    public init(_ table: String, key: String, tags: @escaping @Sendable (RowChange) -> Set<String>) {
        self.init(table, key: [key], tags: tags)
    }

    public init(_ table: String, key: [String], tags: Set<String>) {
        self.init(table, key: key) { _ in tags }
    }

    public init(_ table: String, key: String, tags: Set<String>) {
        self.init(table, key: [key]) { _ in tags }
    }
}

/// A module whose tables' writes make cached values stale.
public protocol CacheInvalidatingModule: KeelModule {
    var cacheInvalidations: [CacheInvalidation] { get }
}

/// Deletes the tags a committed write makes stale (a `ChangeObserver`): every write through `KeelDatabase.write` to
/// a table a `CacheInvalidatingModule` lists, whoever makes it (a handler, the staff area, a command). With the
/// database store the entries go in the write's own transaction; with the memory store as it commits.
struct CacheInvalidator: ApplicationPart, ChangeObserver {
    let cache: KeelCache
    let invalidations: [String: [CacheInvalidation]]

    init(cache: KeelCache, invalidations: [CacheInvalidation]) {
        self.cache = cache
        self.invalidations = Dictionary(grouping: invalidations, by: \.table.name)
    }

    var trackedTables: [TrackedTable] {
        invalidations.values.compactMap(\.first?.table).sorted { $0.name < $1.name }
    }

    var recordsEvents: Bool { false }

    func tags(of batch: ChangeBatch) -> Set<String> {
        var tags = Set<String>()
        for change in batch.changes {
            for invalidation in invalidations[change.table] ?? [] { tags.formUnion(invalidation.tags(change)) }
        }
        return tags
    }

    func record(_ batch: ChangeBatch, in sql: any SQLDatabase) async throws {
        let tags = tags(of: batch)
        if !tags.isEmpty { try await cache.store.delete(tagged: tags, inTransactionOf: sql) }
    }

    func didCommit(_ batch: ChangeBatch) {
        let tags = tags(of: batch)
        guard !tags.isEmpty else { return }
        cache.purges.advance()
        cache.store.deleteCommitted(tagged: tags)
    }
}

/// Counts purges in this process: the response cache does not store an answer whose request saw one begin, since
/// it may have read what the purge was for before the write committed.
final class PurgeCounter: Sendable {
    private let count = Atomic<UInt64>(0)

    var value: UInt64 { count.load(ordering: .acquiring) }

    func advance() {
        count.add(1, ordering: .releasing)
    }
}
