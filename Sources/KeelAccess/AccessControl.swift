public import Foundation
public import KeelCore
public import KeelData
public import KeelKernel
import FluentKit
import SQLKit
import HTTPTypes

/// Who may do what: the permissions the modules declare (recorded by `migrate`), groups, grants to users and groups,
/// the staff and superuser flags, and when each user last signed in. One value per application (`app.access`), shared
/// by every instance through the application database.
///
/// ```swift
/// try await app.access.createGroup("editors")
/// try await app.access.grant("articles.delete_article", toGroup: "editors")
/// try await app.access.add(user: "42", toGroup: "editors")
/// try await app.access.permissions(of: "42")          // ["articles.delete_article"]
/// ```
///
/// Users are the application's: Keel knows them by the id their identity carries (`Identity.userID`), and keeps
/// only what access needs beside them. A superuser holds every declared permission; staff is a flag for people who
/// work on the site (the staff area), and grants nothing by itself.
public struct AccessControl: Sendable {
    let database: KeelDatabase
    let clock: @Sendable () -> Date

    public init(database: KeelDatabase, clock: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.clock = clock
    }

    // MARK: - What a user holds

    /// Every permission the user holds, directly, through a group, or (a superuser) all that are declared.
    public func permissions(of userID: String) async throws -> Set<String> {
        let rows = try await database.sql.raw("""
            SELECT codename FROM \(ident: Tables.userPermissions) WHERE user_id = \(bind: userID)
            UNION SELECT gp.codename FROM \(ident: Tables.groupPermissions) gp
                JOIN \(ident: Tables.groupMembers) m ON m.group_name = gp.group_name WHERE m.user_id = \(bind: userID)
            UNION SELECT p.codename FROM \(ident: Tables.permissions) p
                JOIN \(ident: Tables.users) u ON u.user_id = \(bind: userID) AND u.is_superuser = 1
            """).all(decoding: CodenameRow.self)
        return Set(rows.map(\.codename))
    }

    /// Whether the user holds the permission (a superuser holds every declared one).
    public func has(_ userID: String, _ codename: String) async throws -> Bool {
        try await permissions(of: userID).contains(codename)
    }

    /// Passes when the identity holds every one of `codenames`: else a 401 for nobody signed in, a 403 naming what is
    /// missing for anyone else.
    public func require(_ codenames: Set<String>, of identity: Identity) async throws {
        guard let userID = try identity.optionalUserID() else { throw KeelError.signInRequired }
        try await require(codenames, of: userID)
    }

    /// Passes when the user holds every one of `codenames`: else a 403 (`permission.denied`) naming what is missing.
    public func require(_ codenames: Set<String>, of userID: String) async throws {
        let missing = codenames.subtracting(try await permissions(of: userID)).sorted()
        guard missing.isEmpty else {
            throw KeelError(.forbidden, code: .permissionDenied, message:
                "You do not have permission to do this: it needs \(missing.count == 1 ? "the permission" : "the permissions") \(missing.joined(separator: ", ")).")
        }
    }

    /// The staff and superuser flags and the last sign-in of a user (all off and `nil` for one Keel never saw).
    public func account(_ userID: String) async throws -> UserAccess {
        let row = try await database.sql.select().columns("user_id", "is_staff", "is_superuser", "last_login", "last_elevated")
            .from(Tables.users).where("user_id", .equal, userID).first(decoding: UserRow.self)
        return row.map(UserAccess.init) ?? UserAccess(userID: userID, isStaff: false, isSuperuser: false, lastLogin: nil, lastElevated: nil)
    }

    // MARK: - Flags and activity

    /// Sets the staff and superuser flags of a user. A superuser is staff too.
    public func setFlags(of userID: String, staff: Bool, superuser: Bool) async throws {
        try await upsertUser(userID, ["is_staff": (staff || superuser) ? 1 : 0, "is_superuser": superuser ? 1 : 0], event: ChangeEvent(
            "access.flags_set", table: Tables.users, key: userID, subject: userID,
            details: ["staff": String(staff || superuser), "superuser": String(superuser)]))
    }

    /// Records a sign-in (AccessModule does, when a session logs a user in).
    public func recordLogin(of userID: String, at date: Date? = nil) async throws {
        try await upsertUser(userID, ["last_login": (date ?? clock()).timeIntervalSince1970])
    }

    /// Records that a user entered elevated access.
    public func recordElevation(of userID: String, at date: Date? = nil, reason: String? = nil) async throws {
        try await upsertUser(userID, ["last_elevated": (date ?? clock()).timeIntervalSince1970], event: ChangeEvent(
            "access.elevation_granted", table: Tables.users, key: userID, subject: userID, details: reason.map { ["reason": $0] } ?? [:]))
    }

    private func upsertUser(_ userID: String, _ values: [String: any Encodable & Sendable], event: ChangeEvent? = nil) async throws {
        guard let event else { return try await upsert(userID, values, sql: database.sql) }
        try await database.write { tx in
            try await upsert(userID, values, sql: tx.sql)
            tx.record(event)
        }
    }

    private func upsert(_ userID: String, _ values: [String: any Encodable & Sendable], sql: any SQLDatabase) async throws {
        let names = values.keys.sorted()
        var insert = sql.insert(into: Tables.users).columns(["user_id"] + names)
            .values([SQLBind(userID)] + names.map { SQLBind(values[$0]!) })
        insert = insert.onConflict(with: ["user_id"]) { update in
            var update = update
            for name in names { update = update.set(excludedValueOf: name) }
            return update
        }
        try await insert.run()
    }

    // MARK: - Grants

    /// Gives a user a permission directly. An undeclared permission is a 422 naming it.
    public func grant(_ codename: String, to userID: String) async throws {
        try await requireDeclared(codename)
        try await changing(ChangeEvent("access.permission_granted", subject: userID, details: ["permission": codename])) { sql in
            try await sql.insert(into: Tables.userPermissions).columns("user_id", "codename").values(SQLBind(userID), SQLBind(codename))
                .ignoringConflicts(with: ["user_id", "codename"]).returning("codename").all()
        }
    }

    /// Takes a permission given directly back (what a group gives stays).
    public func revoke(_ codename: String, from userID: String) async throws {
        try await changing(ChangeEvent("access.permission_revoked", subject: userID, details: ["permission": codename])) { sql in
            try await sql.delete(from: Tables.userPermissions).where("user_id", .equal, userID).where("codename", .equal, codename).returning("codename").all()
        }
    }

    /// Creates a group (nothing happens when it exists).
    public func createGroup(_ name: String) async throws {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 150, !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw KeelError(.unprocessableContent, code: .validationFailed, message: "A group's name is 1 to 150 characters, without control characters.")
        }
        let now = clock().timeIntervalSince1970
        try await changing(ChangeEvent("access.group_created", details: ["group": trimmed])) { sql in
            try await sql.insert(into: Tables.groups).columns("name", "created_at").values(SQLBind(trimmed), SQLBind(now))
                .ignoringConflicts(with: ["name"]).returning("name").all()
        }
    }

    /// Deletes a group: its members lose what it gave them (its grants and memberships go with it: the tables'
    /// foreign keys cascade).
    public func deleteGroup(_ name: String) async throws {
        try await changing(ChangeEvent("access.group_deleted", details: ["group": name])) { sql in
            try await sql.delete(from: Tables.groups).where("name", .equal, name).returning("name").all()
        }
    }

    /// Gives every member of a group a permission.
    public func grant(_ codename: String, toGroup group: String) async throws {
        try await requireDeclared(codename)
        try await requireGroup(group)
        try await changing(ChangeEvent("access.group_permission_granted", details: ["group": group, "permission": codename])) { sql in
            try await sql.insert(into: Tables.groupPermissions).columns("group_name", "codename").values(SQLBind(group), SQLBind(codename))
                .ignoringConflicts(with: ["group_name", "codename"]).returning("codename").all()
        }
    }

    /// Takes a permission from a group.
    public func revoke(_ codename: String, fromGroup group: String) async throws {
        try await changing(ChangeEvent("access.group_permission_revoked", details: ["group": group, "permission": codename])) { sql in
            try await sql.delete(from: Tables.groupPermissions).where("group_name", .equal, group).where("codename", .equal, codename)
                .returning("codename").all()
        }
    }

    /// Makes a user a member of a group.
    public func add(user userID: String, toGroup group: String) async throws {
        try await requireGroup(group)
        try await changing(ChangeEvent("access.group_member_added", subject: userID, details: ["group": group])) { sql in
            try await sql.insert(into: Tables.groupMembers).columns("group_name", "user_id").values(SQLBind(group), SQLBind(userID))
                .ignoringConflicts(with: ["group_name", "user_id"]).returning("user_id").all()
        }
    }

    /// Takes a user out of a group.
    public func remove(user userID: String, fromGroup group: String) async throws {
        try await changing(ChangeEvent("access.group_member_removed", subject: userID, details: ["group": group])) { sql in
            try await sql.delete(from: Tables.groupMembers).where("group_name", .equal, group).where("user_id", .equal, userID)
                .returning("user_id").all()
        }
    }

    /// Runs one statement in a write transaction and records `event` with it when it changed a row (granting what is
    /// already granted records nothing).
    private func changing(_ event: ChangeEvent, _ statement: @escaping @Sendable (any SQLDatabase) async throws -> [any SQLRow]) async throws {
        try await database.write { tx in
            if try await !statement(tx.sql).isEmpty { tx.record(event) }
        }
    }

    /// Every group with its permissions and members, by name.
    public func groups() async throws -> [AccessGroup] {
        let names = try await database.sql.select().column("name").from(Tables.groups).orderBy("name").all(decoding: NameRow.self).map(\.name)
        let grants = try await database.sql.select().columns("group_name", "codename").from(Tables.groupPermissions)
            .all(decoding: GroupGrantRow.self)
        let members = try await database.sql.select().columns("group_name", "user_id").from(Tables.groupMembers)
            .all(decoding: MemberRow.self)
        return names.map { name in
            AccessGroup(name: name, permissions: grants.filter { $0.group_name == name }.map(\.codename).sorted(),
                        members: members.filter { $0.group_name == name }.map(\.user_id).sorted())
        }
    }

    /// Every recorded permission (what `migrate` synced from the modules), by codename.
    public func declared() async throws -> [Permission] {
        try await database.sql.select().columns("codename", "summary").from(Tables.permissions).orderBy("codename")
            .all(decoding: PermissionRow.self).map { Permission($0.codename, $0.summary) }
    }

    private func requireDeclared(_ codename: String) async throws {
        let found = try await database.sql.select().column("codename").from(Tables.permissions).where("codename", .equal, codename)
            .first(decoding: CodenameRow.self)
        guard found != nil else {
            throw KeelError(.unprocessableContent, code: .validationFailed,
                            message: "No module declares the permission \(codename.prefix(200)) (or migrate has not run since it was added).")
        }
    }

    private func requireGroup(_ name: String) async throws {
        let found = try await database.sql.select().column("name").from(Tables.groups).where("name", .equal, name).first(decoding: NameRow.self)
        guard found != nil else { throw KeelError(.notFound, message: "There is no group named \(name.prefix(200)).") }
    }

    // MARK: - Keeping the records in line with the code

    /// Records the declared permissions: adds new ones, updates summaries, deletes those no module declares any more
    /// with every grant of them. Returns what changed, for `migrate` to print.
    ///
    /// Runs under the migration lock (`exclusiveTransaction`): replicas that run `migrate` together take turns, so
    /// the second reads what the first inserted instead of inserting it again.
    public func synchronize(_ declared: [Permission]) async throws -> (added: [String], removed: [String]) {
        try await database.exclusiveTransaction(holder: "access.permissions") { sql in
            let stored = try await sql.select().columns("codename", "summary").from(Tables.permissions).all(decoding: PermissionRow.self)
            let storedSummaries = Dictionary(stored.map { ($0.codename, $0.summary) }, uniquingKeysWith: { first, _ in first })
            let declaredNames = Set(declared.map(\.codename))
            var added: [String] = []
            for permission in declared {
                switch storedSummaries[permission.codename] {
                case nil:
                    try await sql.insert(into: Tables.permissions).columns("codename", "summary")
                        .values(SQLBind(permission.codename), SQLBind(permission.summary)).run()
                    added.append(permission.codename)
                case permission.summary?:
                    break
                default:
                    try await sql.update(Tables.permissions).set("summary", to: permission.summary)
                        .where("codename", .equal, permission.codename).run()
                }
            }
            let removed = stored.map(\.codename).filter { !declaredNames.contains($0) }.sorted()
            // Their grants go with them: the grant tables' foreign keys cascade.
            if !removed.isEmpty { try await sql.delete(from: Tables.permissions).where("codename", .in, removed).run() }
            return (added.sorted(), removed)
        }
    }

    // MARK: - Rows

    struct CodenameRow: Decodable { let codename: String }
    struct NameRow: Decodable { let name: String }
    struct PermissionRow: Decodable { let codename: String; let summary: String }
    struct GroupGrantRow: Decodable { let group_name: String; let codename: String }
    struct MemberRow: Decodable { let group_name: String; let user_id: String }
    struct UserGrantRow: Decodable { let user_id: String; let codename: String }
    struct UserRow: Decodable {
        let user_id: String
        let is_staff: Int
        let is_superuser: Int
        let last_login: Double?
        let last_elevated: Double?
    }
}

/// What Keel keeps about one user's access beside the application's own user record.
public struct UserAccess: Sendable, Equatable, Codable {
    public let userID: String
    public let isStaff: Bool
    public let isSuperuser: Bool
    public let lastLogin: Date?
    public let lastElevated: Date?

    public init(userID: String, isStaff: Bool, isSuperuser: Bool, lastLogin: Date?, lastElevated: Date?) {
        self.userID = userID
        self.isStaff = isStaff
        self.isSuperuser = isSuperuser
        self.lastLogin = lastLogin
        self.lastElevated = lastElevated
    }

    init(_ row: AccessControl.UserRow) {
        self.init(userID: row.user_id, isStaff: row.is_staff != 0, isSuperuser: row.is_superuser != 0,
                  lastLogin: row.last_login.map(Date.init(timeIntervalSince1970:)),
                  lastElevated: row.last_elevated.map(Date.init(timeIntervalSince1970:)))
    }
}

/// A group: its name, the permissions it gives and its members' user ids.
public struct AccessGroup: Sendable, Equatable, Codable {
    public let name: String
    public let permissions: [String]
    public let members: [String]
    public init(name: String, permissions: [String], members: [String]) {
        self.name = name
        self.permissions = permissions
        self.members = members
    }
}

extension ErrorCode {
    /// `permission.denied`: the user lacks a permission the route needs.
    public static let permissionDenied: ErrorCode = "permission.denied"
}
