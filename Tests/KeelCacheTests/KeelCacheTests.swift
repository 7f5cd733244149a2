import Foundation
import Hummingbird
import Keel
@testable import KeelCache
import KeelTesting
import Synchronization
import Testing

struct Card: Codable, Sendable, Equatable {
    let title: String
    let likes: Int
}

/// Counts a producer's runs across tasks.
final class Runs: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func tick() { count.withLock { $0 += 1 } }
}

/// A door a producer waits at until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Polls `condition` every 10 ms for at most 10 s (a loaded machine); false if it never held.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

extension KeelTestApplication {
    static func cached(_ values: [String: String] = [:], clock: ManualClock? = nil) async throws -> KeelTestApplication {
        try await make(values: values, clock: clock)
    }
}

@Suite struct KeelCacheTests {
    /// Typed values in and out, a String kept as it is, deletion, and the time to live on the application's clock.
    @Test func storesTypedValuesForTheirTime() async throws {
        let clock = ManualClock()
        let cache = try await KeelTestApplication.cached(clock: clock).keel.cache
        #expect(await cache.get("card", as: Card.self) == nil)
        await cache.set("card", Card(title: "Hello", likes: 3), ttl: .seconds(60))
        await cache.set("page", "<p>Hi ✓</p>")
        #expect(await cache.get("card", as: Card.self) == Card(title: "Hello", likes: 3))
        #expect(await cache.get("page", as: String.self) == "<p>Hi ✓</p>")
        #expect(await cache.get("card", as: [Int].self) == nil, "a value that does not decode as the type asked is a miss")
        #expect(await cache.get("card", as: Card.self) == nil, "and is dropped")

        await cache.set("card", Card(title: "Hello", likes: 3), ttl: .seconds(60))
        clock.advance(by: .seconds(59))
        #expect(await cache.get("card", as: Card.self) != nil)
        clock.advance(by: .seconds(1))
        #expect(await cache.get("card", as: Card.self) == nil, "gone once its time is up")
        await cache.set("page", "<p>Hi ✓</p>")
        clock.advance(by: .seconds(299))
        #expect(await cache.get("page", as: String.self) != nil, "cache.defaultTTL is 300 s")
        clock.advance(by: .seconds(1))
        #expect(await cache.get("page", as: String.self) == nil)

        await cache.set("n", 5)
        #expect(await cache.add("n", 6) == false)
        await cache.delete("n")
        #expect(await cache.add("n", 7))
        #expect(await cache.get("n", as: Int.self) == 7)
    }

    /// Scopes keep modules' keys apart, versions make old values unreachable, tags reach across scopes.
    @Test func scopesVersionsAndTags() async throws {
        let app = try await KeelTestApplication.cached(["cache.keyPrefix": "conduit", "cache.version": "3"])
        let cache = app.keel.cache
        let articles = cache.scoped("articles")
        #expect(articles.storedKey("list") == "conduitarticles.v3:list")
        #expect(cache.storedKey("list", version: 4) == "conduitapp.v4:list")
        await cache.set("list", "app's")
        await articles.set("list", "articles'", tags: ["user:42"])
        await articles.scoped("feed").set("list", "feed's", tags: ["user:42"])
        await articles.set("other", "untagged")
        #expect(await cache.get("list", as: String.self) == "app's")
        #expect(await articles.get("list", as: String.self) == "articles'")

        await articles.set("shape", "old", version: 1)
        #expect(await articles.get("shape", as: String.self) == nil, "written under another version")
        #expect(await articles.get("shape", as: String.self, version: 1) == "old")

        #expect(await cache.delete(tagged: "user:42") == 2)
        #expect(await articles.get("list", as: String.self) == nil)
        #expect(await articles.get("other", as: String.self) == "untagged")
        #expect(await cache.get("list", as: String.self) == "app's")

        try await cache.clear()
        #expect(try await cache.usage().entries == 0)
    }

    /// Fifty concurrent requests for one missing key run the producer once and all get its value.
    @Test func fiftyConcurrentMissesProduceOnce() async throws {
        let cache = try await KeelTestApplication.cached().keel.cache
        let runs = Runs()
        let gate = Gate()
        let values = try await withThrowingTaskGroup(of: Card.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await cache.getOrSet("popular", ttl: .seconds(60)) {
                        runs.tick()
                        await gate.wait()
                        return Card(title: "Popular", likes: 50)
                    }
                }
            }
            // The producer is held until the other 49 wait for it.
            #expect(await eventually { cache.flights.waiting(for: cache.storedKey("popular")) == 49 })
            gate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(runs.value == 1)
        #expect(values.count == 50 && values.allSatisfy { $0 == Card(title: "Popular", likes: 50) })
        #expect(try await cache.getOrSet("popular") { runs.tick(); return Card(title: "again", likes: 0) } == Card(title: "Popular", likes: 50))
        #expect(runs.value == 1, "and later calls read it")
    }

    /// A producer that throws wakes every waiter with its error, and nothing is stored.
    @Test func aFailingProducerFailsItsWaiters() async throws {
        let cache = try await KeelTestApplication.cached().keel.cache
        struct Broken: Error, Equatable {}
        let runs = Runs()
        let gate = Gate()
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        _ = try await cache.getOrSet("broken") { () async throws -> Int in
                            runs.tick()
                            await gate.wait()
                            throw Broken()
                        }
                        return false
                    } catch {
                        return error is Broken
                    }
                }
            }
            #expect(await eventually { cache.flights.waiting(for: cache.storedKey("broken")) == 9 })
            gate.open()
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(runs.value == 1)
        #expect(outcomes.count == 10 && outcomes.allSatisfy { $0 }, "every caller saw the producer's error")
        #expect(await cache.get("broken", as: Int.self) == nil)
        #expect(try await cache.getOrSet("broken") { 9 } == 9, "the next call produces again")
    }

    /// A waiter gives up after `cache.waitTimeout` with a 503 that says to retry; the producer still finishes.
    @Test func waitersGiveUpAfterTheTimeout() async throws {
        let cache = try await KeelTestApplication.cached(["cache.waitTimeout": "50ms"]).keel.cache
        let runs = Runs()
        let gate = Gate()
        async let slow = cache.getOrSet("slow") { () async throws -> Int in
            runs.tick()
            await gate.wait()
            return 1
        }
        #expect(await eventually { runs.value == 1 })
        defer { gate.open() }
        do {
            _ = try await cache.getOrSet("slow") { 2 }
            Issue.record("the waiter should have timed out")
        } catch let error as KeelError {
            #expect(error.status == .serviceUnavailable && error.code == "cache.wait_timeout")
            #expect(error.headers[.retryAfter] == "1")
        }
        gate.open()
        #expect(try await slow == 1)
        #expect(await cache.get("slow", as: Int.self) == 1)
    }

    /// A producer whose request is cancelled hands the work to a waiter instead of failing it.
    @Test func aCancelledProducerHandsOver() async throws {
        let cache = try await KeelTestApplication.cached().keel.cache
        let runs = Runs()
        let producer = Task {
            try await cache.getOrSet("handover") { () async throws -> Int in
                runs.tick()
                try await Task.sleep(for: .seconds(30))
                return 1
            }
        }
        #expect(await eventually { runs.value == 1 })
        async let waiter = cache.getOrSet("handover") { () async throws -> Int in
            runs.tick()
            return 2
        }
        #expect(await eventually { cache.flights.waiting(for: cache.storedKey("handover")) == 1 })
        producer.cancel()
        #expect(try await waiter == 2)
        #expect(runs.value == 2)
        await #expect(throws: CancellationError.self) { try await producer.value }
    }

    /// Hummingbird's persist API over the same store, with its rules: `create` refuses a key that exists, `set`
    /// without an expiry keeps the one there, a value of another type is `invalidConversion`.
    @Test func isAHummingbirdPersistDriver() async throws {
        let clock = ManualClock()
        let persist: any PersistDriver = try await KeelTestApplication.cached(clock: clock).keel.cache
        try await persist.create(key: "session", value: Card(title: "s", likes: 1), expires: .seconds(10))
        await #expect(throws: PersistError.duplicate) {
            try await persist.create(key: "session", value: Card(title: "s", likes: 2), expires: nil)
        }
        try await persist.set(key: "session", value: Card(title: "s", likes: 3), expires: nil)
        let read = try await persist.getWithTTL(key: "session", as: Card.self)
        #expect(read?.object == Card(title: "s", likes: 3))
        #expect(read?.ttl == .seconds(10), "the expiry it had is kept")
        await #expect(throws: PersistError.invalidConversion) { try await persist.get(key: "session", as: [String].self) }
        clock.advance(by: .seconds(10))
        #expect(try await persist.get(key: "session", as: Card.self) == nil)
        try await persist.set(key: "forever", value: 1, expires: nil)
        clock.advance(by: .seconds(86_400 * 365))
        #expect(try await persist.get(key: "forever", as: Int.self) == 1, "no expiry: kept until evicted")
        try await persist.remove(key: "forever")
        #expect(try await persist.get(key: "forever", as: Int.self) == nil)
    }

    /// Hits, misses and evictions reach `/metrics`, labelled with the store.
    @Test func countsHitsMissesAndEvictions() async throws {
        let app = try await KeelTestApplication.cached(["cache.maxBytes": "65536"])
        let cache = app.keel.cache
        _ = await cache.get("nothing", as: Int.self)
        await cache.set("one", 1)
        _ = await cache.get("one", as: Int.self)
        _ = await cache.get("one", as: Int.self)
        let big = String(repeating: "x", count: 30_000)
        for index in 0..<3 { await cache.set("big\(index)", big) }
        let text = String(decoding: app.keel.part(KeelMetrics.self).render(), as: UTF8.self)
        #expect(text.contains(#"keel_cache_hits_total{store="memory"} 2"#), "\(text)")
        #expect(text.contains(#"keel_cache_misses_total{store="memory"} 1"#))
        // 64 kB holds two 30 kB values (30,075 bytes each with the stored key `app.v1:bigN` and 64 of overhead): the third pushed out `one` and `big0`.
        #expect(text.contains(#"keel_cache_evictions_total{store="memory"} 2"#))
        #expect(text.contains(#"keel_cache_entries{store="memory"} 2.0"#))
        #expect(text.contains(#"keel_cache_bytes{store="memory"} 60150.0"#))
    }

    /// A store name that does not exist stops the application at start, naming the key and the choices.
    @Test func anUnknownStoreIsRefusedAtStart() async throws {
        do {
            _ = try await KeelTestApplication.cached(["cache.store": "redis"])
            Issue.record("cache.store = redis should not resolve")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("cache.store") && text.contains("memory"), "\(text)")
        }
    }
}
