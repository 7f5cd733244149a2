import KeelData
import SQLKit

/// The tables access control keeps, created by the migration `auth.0004_access`.
///
/// | table | one row per |
/// |---|---|
/// | `keel_permissions` | permission a module declares (synced by `migrate`) |
/// | `keel_groups` | group |
/// | `keel_group_permissions` | permission given to a group |
/// | `keel_group_members` | user in a group |
/// | `keel_user_permissions` | permission given to a user directly |
/// | `keel_users` | user Keel knows something about: staff and superuser flags, last sign-in, last elevated access (`tokens_not_before` is no longer written: revocations have their own table since `auth.0006_token_revocations`, which copied it) |
///
/// and the elevation log, `keel_elevated_requests` (`auth.0005_elevation_log`): one row per request made under
/// elevated access.
enum Tables {
    static let permissions = "keel_permissions"
    static let groups = "keel_groups"
    static let groupPermissions = "keel_group_permissions"
    static let groupMembers = "keel_group_members"
    static let userPermissions = "keel_user_permissions"
    static let users = "keel_users"
    static let elevatedRequests = "keel_elevated_requests"

    static var migration: any KeelMigration {
        NamedMigration("auth.0004_access", prepare: { db in
            let sql = db.sql
            try await sql.create(table: permissions)
                .column("codename", type: .text, .primaryKey(autoIncrement: false))
                .column("summary", type: .text, .notNull)
                .run()
            try await sql.create(table: groups)
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("created_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                .run()
            try await sql.create(table: groupPermissions)
                .column("group_name", type: .text, .notNull, .references(groups, "name", onDelete: .cascade))
                .column("codename", type: .text, .notNull, .references(permissions, "codename", onDelete: .cascade))
                .primaryKey("group_name", "codename")
                .run()
            try await sql.create(table: groupMembers)
                .column("group_name", type: .text, .notNull, .references(groups, "name", onDelete: .cascade))
                .column("user_id", type: .text, .notNull)
                .primaryKey("group_name", "user_id")
                .run()
            try await db.createIndex("keel_group_members_user_idx", on: groupMembers, columns: ["user_id"])
            try await sql.create(table: userPermissions)
                .column("user_id", type: .text, .notNull)
                .column("codename", type: .text, .notNull, .references(permissions, "codename", onDelete: .cascade))
                .primaryKey("user_id", "codename")
                .run()
            try await sql.create(table: users)
                .column("user_id", type: .text, .primaryKey(autoIncrement: false))
                .column("is_staff", type: .int, .notNull, .default(0))
                .column("is_superuser", type: .int, .notNull, .default(0))
                .column("last_login", type: .custom(SQLRaw("DOUBLE PRECISION")))
                .column("last_elevated", type: .custom(SQLRaw("DOUBLE PRECISION")))
                .column("tokens_not_before", type: .custom(SQLRaw("DOUBLE PRECISION")))
                .run()
        }, revert: { db in
            let sql = db.sql
            for table in [users, userPermissions, groupMembers, groupPermissions, groups, permissions] {
                try await sql.drop(table: table).run()
            }
        })
    }

    static var elevationLogMigration: any KeelMigration {
        NamedMigration("auth.0005_elevation_log", prepare: { db in
            try await db.sql.create(table: elevatedRequests)
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                .column("user_id", type: .text, .notNull)
                .column("reason", type: .text, .notNull)
                .column("method", type: .text, .notNull)
                .column("route", type: .text, .notNull)
                .column("request_id", type: .text, .notNull)
                .column("status", type: .int, .notNull)
                .run()
            try await db.createIndex("keel_elevated_requests_user_idx", on: elevatedRequests, columns: ["user_id", "at"])
        }, revert: { db in
            try await db.sql.drop(table: elevatedRequests).run()
        })
    }
}
