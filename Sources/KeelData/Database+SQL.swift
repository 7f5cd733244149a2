public import FluentKit
public import SQLKit

extension Database {
    /// The same database as an SQLKit handle, for migrations and queries FluentKit's builders cannot say.
    ///
    /// Every database Keel opens (SQLite, PostgreSQL, and the recording wrapper around them) is an SQL database; this
    /// is the one place that relies on it, so no call site force-casts.
    public var sql: any SQLDatabase {
        guard let sql = self as? any SQLDatabase else {
            preconditionFailure("\(type(of: self)) is not an SQL database; Keel's SQLite and PostgreSQL drivers are.")
        }
        return sql
    }
}

extension KeelDatabase {
    /// Runs `body` in one transaction on an SQLKit handle that records its statements: committed when `body` returns,
    /// rolled back when it throws (the error is rethrown).
    ///
    /// ```swift
    /// try await app.database.transaction { sql in
    ///     try await sql.insert(into: "articles").columns("slug").values(SQLBind(slug)).run()
    ///     try await sql.insert(into: "article_tags").columns("article_id", "tag_id").values(...).run()
    /// }
    /// ```
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await db.transaction { database in try await body(database.sql) }
    }
}
