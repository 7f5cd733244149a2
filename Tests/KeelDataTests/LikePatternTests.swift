import Foundation
import Keel
import KeelTesting
import SQLKit
import Testing

/// `LikePattern` matches text literally on both databases: the text's own `%`, `_` and `\` are not wildcards.
@Suite struct LikePatternTests {
    @Test func escapesTheWildcardsAndItsEscape() {
        #expect(LikePattern.literal("50%_off\\now") == #"50\%\_off\\now"#)
        #expect(LikePattern.containing("a") == "%a%")
        #expect(LikePattern.containing("") == "%%")
    }

    @Test(arguments: TestDatabase.available)
    func aSearchFindsTheTextAndNothingElse(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.notes(url: url)
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            let sql = app.keel.database.sql
            for title in ["50%_off", "50 percent off", "500ff", #"back\slash"#, "backslash", "under_score", "underXscore", "é_ü"] {
                try await sql.insert(into: "notes").columns("title", "author").values(SQLBind(title), SQLBind("a")).run()
            }
            func search(_ text: String) async throws -> [String] {
                try await sql.raw("""
                    SELECT title FROM notes WHERE title LIKE \(bind: LikePattern.containing(text)) \(LikePattern.escapeClause) ORDER BY title
                    """).all().map { try $0.decode(column: "title", as: String.self) }
            }
            #expect(try await search("%") == ["50%_off"])
            #expect(try await search("0%_o") == ["50%_off"])
            #expect(try await search("_") == ["50%_off", "under_score", "é_ü"])
            #expect(try await search(#"\"#) == [#"back\slash"#])
            #expect(try await search("score") == ["underXscore", "under_score"].sorted())
            await app.keel.database.shutdown()
        }
    }
}
