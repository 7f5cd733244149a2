import Foundation
import Keel
import Synchronization
import Testing

@Suite struct MemoryCacheStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func entry(_ size: Int, tags: Set<String> = [], expires: Date? = nil) -> CacheEntry {
        CacheEntry(value: Array(repeating: 7, count: size), expires: expires, tags: tags)
    }

    /// Past its size the store drops the least recently used entry: one read since keeps an entry in.
    @Test func evictsTheLeastRecentlyUsedToStayUnderItsSize() {
        let evictions = Mutex(0)
        // Each entry costs 1 (key) + 100 (value) + 64 = 165 bytes: three fit in 500, four do not.
        let store = MemoryCacheStore(limit: 500) { evicted, _ in evictions.withLock { $0 += evicted } }
        for key in ["a", "b", "c"] { store.set(key, entry(100), now: now) }
        #expect(store.usage() == CacheUsage(entries: 3, bytes: 495, limit: 500))
        #expect(store.get("a", now: now) != nil)  // a is now the most recent; b the least
        store.set("d", entry(100), now: now)
        #expect(store.get("b", now: now) == nil, "the least recently used went")
        #expect(store.get("a", now: now) != nil && store.get("c", now: now) != nil && store.get("d", now: now) != nil)
        #expect(evictions.withLock { $0 } == 1)
        #expect(store.usage().bytes == 495)

        // An entry bigger than the whole store is not kept, and what it replaced is gone.
        store.set("a", entry(1000), now: now)
        #expect(store.get("a", now: now) == nil)
        #expect(store.usage().entries == 2)
    }

    /// Replacing, deleting, clearing: the byte count follows exactly, and slots are reused.
    @Test func bytesFollowEveryChange() {
        let store = MemoryCacheStore(limit: 10_000)
        store.set("k", entry(10), now: now)
        store.set("k", entry(20, tags: ["t1"]), now: now)
        #expect(store.usage() == CacheUsage(entries: 1, bytes: 1 + 20 + 2 + 64, limit: 10_000))
        #expect(store.delete("k"))
        #expect(!store.delete("k"))
        #expect(store.usage().bytes == 0)
        for index in 0..<50 { store.set("key\(index)", entry(index), now: now) }
        for index in 0..<50 where index % 2 == 0 { store.delete("key\(index)") }
        for index in 0..<25 { store.set("again\(index)", entry(1), now: now) }
        #expect(store.usage().entries == 50)
        #expect(store.get("key1", now: now)?.value.count == 1 && store.get("again24", now: now)?.value.count == 1)
        store.clear()
        #expect(store.usage() == CacheUsage(entries: 0, bytes: 0, limit: 10_000))
    }

    /// An expired entry is never returned and is dropped as it is read; `add` writes over it.
    @Test func expiredEntriesAreGone() {
        let store = MemoryCacheStore(limit: 10_000)
        store.set("old", entry(5, expires: now.addingTimeInterval(10)), now: now)
        #expect(store.get("old", now: now.addingTimeInterval(9)) != nil)
        #expect(store.get("old", now: now.addingTimeInterval(10)) == nil)
        #expect(store.usage().entries == 0)
        store.set("x", entry(5, expires: now.addingTimeInterval(10)), now: now)
        #expect(!store.add("x", entry(6), now: now))
        #expect(store.add("x", entry(6), now: now.addingTimeInterval(11)))
        #expect(store.get("x", now: now.addingTimeInterval(11))?.value.count == 6)
    }

    /// Deleting by tag removes exactly the entries carrying it.
    @Test func deletesByTag() {
        let store = MemoryCacheStore(limit: 10_000)
        store.set("page:1", entry(1, tags: ["user:42", "article:a"]), now: now)
        store.set("page:2", entry(1, tags: ["user:42"]), now: now)
        store.set("page:3", entry(1, tags: ["article:a"]), now: now)
        #expect(store.delete(tagged: "user:42") == 2)
        #expect(store.get("page:1", now: now) == nil && store.get("page:2", now: now) == nil)
        #expect(store.get("page:3", now: now) != nil)
        #expect(store.delete(tagged: "user:42") == 0)
        #expect(store.delete(tagged: "article:a") == 1)
        #expect(store.usage().entries == 0)
    }
}
