public import FluentKit
import SQLKit

extension Database {
    /// Creates a plain or composite index, which FluentKit's schema builder cannot (it has unique constraints only).
    ///
    /// For use in migrations: `try await database.createIndex("articles_author_created_idx", on: "articles",
    /// columns: ["author_id", "created_at"])`. Column order matters: put the equality columns first, then the sort.
    public func createIndex(_ name: String, on table: String, columns: [String], unique: Bool = false) async throws {
        precondition(!columns.isEmpty, "An index needs at least one column.")
        var builder = sql.create(index: name).on(table)
        if unique { builder = builder.unique() }
        for column in columns { builder = builder.column(column) }
        try await builder.run()
    }

    /// Drops an index created with `createIndex` (for a migration's `revert`).
    public func dropIndex(_ name: String) async throws {
        try await sql.drop(index: name).run()
    }
}
