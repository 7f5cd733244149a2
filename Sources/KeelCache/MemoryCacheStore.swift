public import Foundation
import Synchronization

/// The per-process store: least recently used entries go first once the entries' cost passes `limit` bytes.
/// Expired entries are dropped when read, or when they reach the end of the line (no sweep walks the whole store).
public final class MemoryCacheStore: CacheStore {
    public let name = "memory"
    public let limit: Int
    private let state: Mutex<LRU>
    private let observe: @Sendable (_ evicted: Int, _ usage: CacheUsage) -> Void

    /// - Parameters:
    ///   - limit: the most the entries may cost, in bytes (`CacheEntry.cost`).
    ///   - observe: after each write, how many entries were evicted to make room and what the store holds (for
    ///     metrics), outside the store's lock.
    public init(limit: Int, observe: @escaping @Sendable (_ evicted: Int, _ usage: CacheUsage) -> Void = { _, _ in }) {
        precondition(limit > 0, "a memory cache needs a positive size")
        self.limit = limit
        self.state = Mutex(LRU())
        self.observe = observe
    }

    public func get(_ key: String, now: Date) -> CacheEntry? {
        state.withLock { lru in
            guard let slot = lru.index[key] else { return nil }
            let entry = lru.slots[slot].entry
            if entry.isExpired(at: now) {
                lru.remove(slot)
                return nil
            }
            lru.touch(slot)
            return entry
        }
    }

    public func set(_ key: String, _ entry: CacheEntry, now: Date) {
        let (evicted, usage) = state.withLock { lru in (store(key, entry, in: &lru, now: now), measure(lru)) }
        observe(evicted, usage)
    }

    public func add(_ key: String, _ entry: CacheEntry, now: Date) -> Bool {
        let (added, evicted, usage) = state.withLock { lru -> (Bool, Int, CacheUsage) in
            if let slot = lru.index[key], !lru.slots[slot].entry.isExpired(at: now) { return (false, 0, measure(lru)) }
            return (true, store(key, entry, in: &lru, now: now), measure(lru))
        }
        observe(evicted, usage)
        return added
    }

    @discardableResult
    public func delete(_ key: String) -> Bool {
        let (found, usage) = state.withLock { lru -> (Bool, CacheUsage) in
            guard let slot = lru.index[key] else { return (false, measure(lru)) }
            lru.remove(slot)
            return (true, measure(lru))
        }
        observe(0, usage)
        return found
    }

    @discardableResult
    public func delete(tagged tag: String) -> Int {
        let (removed, usage) = state.withLock { lru -> (Int, CacheUsage) in
            var removed = 0
            for key in lru.tagged[tag] ?? [] {
                if let slot = lru.index[key] {
                    lru.remove(slot)
                    removed += 1
                }
            }
            return (removed, measure(lru))
        }
        observe(0, usage)
        return removed
    }

    public func deleteCommitted(tagged tags: Set<String>) {
        for tag in tags { delete(tagged: tag) }
    }

    public func clear() {
        let usage = state.withLock { lru in
            lru = LRU()
            return measure(lru)
        }
        observe(0, usage)
    }

    public func usage() -> CacheUsage {
        state.withLock { measure($0) }
    }

    private func measure(_ lru: LRU) -> CacheUsage {
        CacheUsage(entries: lru.index.count, bytes: lru.bytes, limit: limit)
    }

    /// Stores the entry and evicts the least recently used until it fits. An entry
    /// bigger than the whole store is not kept (and what it replaces is removed). Returns how many were evicted.
    private func store(_ key: String, _ entry: CacheEntry, in lru: inout LRU, now: Date) -> Int {
        if let slot = lru.index[key] { lru.remove(slot) }
        let cost = entry.cost(key: key)
        guard cost <= limit else { return 0 }
        var evicted = 0
        while lru.bytes + cost > limit, let oldest = lru.oldest {
            lru.remove(oldest)
            evicted += 1
        }
        lru.insert(key, entry, cost: cost)
        return evicted
    }
}

/// Entries in a doubly linked list by recency, kept in an array (slots are reused), with an index by key and by tag.
struct LRU {
    struct Slot {
        var key: String
        var entry: CacheEntry
        var cost: Int
        var newer: Int
        var older: Int
    }

    var slots: [Slot] = []
    var free: [Int] = []
    var index: [String: Int] = [:]
    var tagged: [String: Set<String>] = [:]
    var bytes = 0
    /// The most and least recently used slots (-1: none).
    var newest = -1
    var oldestSlot = -1

    var oldest: Int? { oldestSlot >= 0 ? oldestSlot : nil }

    mutating func insert(_ key: String, _ entry: CacheEntry, cost: Int) {
        let slot = Slot(key: key, entry: entry, cost: cost, newer: -1, older: newest)
        let position: Int
        if let reused = free.popLast() {
            slots[reused] = slot
            position = reused
        } else {
            slots.append(slot)
            position = slots.count - 1
        }
        if newest >= 0 { slots[newest].newer = position }
        newest = position
        if oldestSlot < 0 { oldestSlot = position }
        index[key] = position
        for tag in entry.tags { tagged[tag, default: []].insert(key) }
        bytes += cost
    }

    mutating func remove(_ position: Int) {
        let slot = slots[position]
        unlink(position)
        index[slot.key] = nil
        for tag in slot.entry.tags {
            tagged[tag]?.remove(slot.key)
            if tagged[tag]?.isEmpty == true { tagged[tag] = nil }
        }
        bytes -= slot.cost
        slots[position].entry = CacheEntry(value: [], expires: nil)
        free.append(position)
    }

    /// Makes the slot the most recently used.
    mutating func touch(_ position: Int) {
        guard position != newest else { return }
        unlink(position)
        slots[position].older = newest
        slots[position].newer = -1
        if newest >= 0 { slots[newest].newer = position }
        newest = position
        if oldestSlot < 0 { oldestSlot = position }
    }

    private mutating func unlink(_ position: Int) {
        let (newer, older) = (slots[position].newer, slots[position].older)
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldestSlot = newer }
    }
}
