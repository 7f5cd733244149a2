import FluentKit
import Foundation
import Hummingbird
import Keel
import KeelTesting
import Logging
import SQLKit

/// A module owning a small schema: notes, with an index, and routes that query it well and badly.
struct NotesModule: KeelModule {
    var name: String { "notes" }
    var extra: [any KeelMigration] = []

    var migrations: [any KeelMigration] {
        [
            NamedMigration("notes.0001_create_notes", prepare: { db in
                try await db.schema("notes").field("id", .int, .identifier(auto: true)).field("title", .string, .required)
                    .field("author", .string, .required).create()
            }, revert: { db in try await db.schema("notes").delete() }),
            NamedMigration("notes.0002_index_author", prepare: { db in
                try await db.createIndex("notes_author_title_idx", on: "notes", columns: ["author", "title"])
            }, revert: { db in try await db.dropIndex("notes_author_title_idx") }),
        ] + extra
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let router = routes.api
        let database = app.database
        router.get("/notes/count") { _, _ -> String in
            let rows = try await database.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notes").all()
            return String(try rows.first?.decode(column: "n", as: Int.self) ?? 0)
        }
        router.get("/notes/broken") { _, _ -> String in
            // A statement the server refuses, with a bound value that must never reach a log.
            _ = try await database.sql.select().column("id").from("missing_table").where("title", .equal, "bound-secret-value").all()
            return "unreachable"
        }
        router.get("/notes/n-plus-one") { _, _ -> String in
            for author in ["a", "b", "c", "d", "e", "f"] {
                _ = try await database.sql.select().column("id").from("notes").where("author", .equal, author).all()
            }
            return "done"
        }
    }
}

extension KeelTestApplication {
    static func notes(url: String, profile: Profile = .test, values: [String: String] = [:], extra: [any KeelMigration] = []) async throws
        -> KeelTestApplication
    {
        var all = values
        all["database.url"] = url
        return try await make(modules: [NotesModule(extra: extra)], profile: profile, values: all)
    }
}

/// Table names in the database, for assertions.
func tables(_ database: KeelDatabase) async throws -> Set<String> {
    let query = database.kind == .sqlite
        ? "SELECT name FROM sqlite_master WHERE type = 'table'"
        : "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    return Set(try await database.sql.raw(SQLQueryString(query)).all().map { try $0.decode(column: "name", as: String.self) })
}

func indexes(_ database: KeelDatabase) async throws -> Set<String> {
    let query = database.kind == .sqlite
        ? "SELECT name FROM sqlite_master WHERE type = 'index'"
        : "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'"
    return Set(try await database.sql.raw(SQLQueryString(query)).all().map { try $0.decode(column: "name", as: String.self) })
}
