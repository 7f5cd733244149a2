import FluentKit
public import SQLKit

/// The database-wide lock that migrations and the work that follows them take, so that instances started together
/// (the replicas of a deployment, each running `migrate`) take turns instead of colliding.
///
/// PostgreSQL: a transaction-level advisory lock (key "KEEL"). SQLite: the database's one write lock, taken by writing
/// a row of `keel_migration_lock` as the transaction's first statement (a read first would start a snapshot that a
/// later write could not upgrade). Either way it is released when the transaction ends.
enum MaintenanceLock {
    static let table = "keel_migration_lock"
    /// "KEEL" as an advisory-lock key.
    static let advisoryKey: Int64 = 0x4B45_454C

    /// Creates SQLite's lock table if needed (outside any transaction; PostgreSQL needs no table).
    static func prepare(_ sql: any SQLDatabase, kind: KeelDatabase.Kind) async throws {
        guard kind == .sqlite else { return }
        try await sql.create(table: table).ifNotExists()
            .column("id", type: .int, .primaryKey(autoIncrement: false))
            .column("holder", type: .text)
            .run()
    }

    /// Takes the lock; the first statement of the transaction `sql` runs in. Waits for another holder to commit.
    static func take(_ sql: any SQLDatabase, kind: KeelDatabase.Kind, holder: String) async throws {
        switch kind {
        case .postgres:
            try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: advisoryKey))").run()
        case .sqlite:
            try await sql.raw("INSERT OR REPLACE INTO keel_migration_lock (id, holder) VALUES (1, \(bind: holder))").run()
        }
    }
}

extension KeelDatabase {
    /// Runs `body` in one transaction that holds the lock every migration step holds, so that of several instances
    /// running it at once, one runs it at a time and each sees what the one before committed.
    ///
    /// For read-then-write work that brings stored records in line with the code after `migrate`
    /// (`KeelModule.afterMigrate`: permissions, seeded rows), which replicas starting together would otherwise race on
    /// (two inserts of the same row, one failing). Never for request work: it serializes every instance.
    ///
    /// ```swift
    /// try await database.exclusiveTransaction(holder: "access.permissions") { sql in
    ///     let stored = try await sql.select().column("codename").from("keel_permissions").all()
    ///     // insert what is missing: no other instance is between the read and the write
    /// }
    /// ```
    /// - Parameter holder: who holds the lock, recorded on SQLite (for a person reading the lock table).
    public func exclusiveTransaction<T: Sendable>(
        holder: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let kind = self.kind
        try await MaintenanceLock.prepare(sql, kind: kind)
        return try await transaction { sql in
            try await MaintenanceLock.take(sql, kind: kind, holder: holder)
            return try await body(sql)
        }
    }
}
