import FluentKit
import KeelData
import SQLKit

/// The audit trail's tables, created by `audit.0001_trail`:
///
/// - `keel_audit`: the sealed entries, one line of sequence numbers, each hash covering the entry and the one before.
/// - `keel_audit_pending`: what write transactions recorded and the sealer has not yet chained (written in the
///   transaction of the change: no change without its entry).
/// - `keel_audit_head`: the chain's last sequence number and hash, one row, locked while sealing.
/// - `keel_audit_keys`: one sealing key per data subject; deleting a row erases that person's sealed values.
enum AuditTables {
    static let entries = "keel_audit"
    static let pending = "keel_audit_pending"
    static let head = "keel_audit_head"
    static let keys = "keel_audit_keys"
    /// The hash before the first entry.
    static let genesis = String(repeating: "0", count: 64)

    static var migration: any KeelMigration {
        NamedMigration("audit.0001_trail", prepare: { db in
            let sql = db.sql
            try await recordColumns(of: sql.create(table: entries).column("seq", type: .bigint, .primaryKey(autoIncrement: false)))
                .column("hash", type: .text, .notNull)
                .run()
            // The queries `audit log` and the staff pages make: by actor, by object (a row's history), by action. Time
            // ranges read newest first by `seq` (times rise with it), so they need no index of their own: every index
            // is paid for by every audited write.
            try await db.createIndex("keel_audit_actor_idx", on: entries, columns: ["actor", "seq"])
            try await db.createIndex("keel_audit_object_idx", on: entries, columns: ["object_table", "object_key", "seq"])
            try await db.createIndex("keel_audit_action_idx", on: entries, columns: ["action", "seq"])
            try await recordColumns(of: sql.create(table: pending).column("id", type: .bigint, .primaryKey(autoIncrement: true))).run()
            try await sql.create(table: head)
                .column("id", type: .int, .primaryKey(autoIncrement: false))
                .column("seq", type: .bigint, .notNull)
                .column("hash", type: .text, .notNull)
                .run()
            try await sql.insert(into: head).columns("id", "seq", "hash").values(SQLBind(1), SQLBind(0), SQLBind(genesis)).run()
            try await sql.create(table: keys)
                .column("subject", type: .text, .primaryKey(autoIncrement: false))
                .column("key", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
        }, revert: { db in
            for table in [keys, head, pending, entries] { try await db.sql.drop(table: table).ifExists().run() }
        })
    }

    /// What a write records, the same in both tables (`AuditEntry.recordColumns`).
    static func recordColumns(of table: SQLCreateTableBuilder) -> SQLCreateTableBuilder {
        table.column("at", type: .bigint, .notNull)
            .column("actor", type: .text, .notNull)
            .column("via", type: .text, .notNull)
            .column("request_id", type: .text)
            .column("client", type: .text)
            .column("action", type: .text, .notNull)
            .column("object_table", type: .text)
            .column("object_key", type: .text)
            .column("subject", type: .text)
            .column("fields", type: .text, .notNull)
    }
}
