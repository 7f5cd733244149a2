import Foundation
import Keel
import KeelTesting
import Testing

@Suite struct CacheCommandTests {
    /// `cache stats` counts the database store's values (text and JSON), `cache clear` empties it; with the memory
    /// store, `clear` says why there is nothing to clear from a command.
    @Test(arguments: TestDatabase.available)
    func statsAndClearTheDatabaseStore(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let environment = ["CACHE_STORE": "database"]
            #expect(await runLedger(["migrate"], url: url, environment: environment).code == 0)
            let app = try await KeelTestApplication.make(modules: LedgerApp.modules, values: ["database.url": url, "cache.store": "database"])
            await app.keel.cache.set("one", "1")
            await app.keel.cache.set("two", [1, 2])

            let stats = await runLedger(["cache", "stats"], url: url, environment: environment)
            #expect(stats.code == 0, "\(stats.errors)")
            #expect(stats.output.contains("database cache: 2 entries,"), "\(stats.output)")
            let json = await runLedger(["cache", "stats", "--json"], url: url, environment: environment)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
            #expect(object["entries"] as? Int == 2)

            let cleared = await runLedger(["cache", "clear"], url: url, environment: environment)
            #expect(cleared.code == 0)
            #expect(cleared.output.contains("Cleared the database cache: 2 entries"), "\(cleared.output)")
            #expect(await app.keel.cache.get("one", as: String.self) == nil)

            let memory = await runLedger(["cache", "clear"], url: url)
            #expect(memory.code == 0)
            #expect(memory.errors.contains("cache.store is memory"))
        }
    }
}
