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

extension SQLRow {
    /// A nullable column: `nil` when it holds NULL, else its value as `T`.
    ///
    /// The same result as `decode(column:as: T?.self)`, without the driver's detour for `Optional`: SQLiteKit decodes
    /// an optional through a nested single-value `Decoder` after a failed protocol-conformance check, about a third
    /// of what decoding the home page's rows cost (docs/data.md, "Raw SQL on a hot path").
    ///
    /// ```swift
    /// bio = try row.decodeIfPresent(column: "bio", as: String.self)
    /// ```
    public func decodeIfPresent<T: Decodable>(column: String, as type: T.Type = T.self) throws -> T? {
        try decodeNil(column: column) ? nil : decode(column: column, as: T.self)
    }
}

extension KeelDatabase {
    /// Runs `body` in one transaction on an SQLKit handle that records its statements: committed when `body` returns,
    /// rolled back when it throws (the error is rethrown). Its writes are not captured for change observers (the audit
    /// trail): write tracked tables with `write { tx in … }`.
    ///
    /// ```swift
    /// try await app.database.transaction { sql in
    ///     try await sql.insert(into: "tags").columns("name").values(SQLBind(name)).run()
    ///     try await sql.insert(into: "article_tags").columns("article_id", "tag_id").values(...).run()
    /// }
    /// ```
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await db.transaction { database in try await body(database.sql) }
    }
}
