public import KeelKernel
public import Foundation
public import KeelData
import Crypto
import FluentKit
import KeelCore
import SQLKit

/// Where sessions live. Keys are stored hashed (SHA-256), so a copy of the store does not hand out live sessions.
///
/// Every store passes the same conformance tests on memory, SQLite and PostgreSQL.
public protocol SessionStore: Sendable {
    func load(key: String) async throws -> SessionRecord?
    /// Stores a session under a new key.
    func insert(_ record: SessionRecord) async throws
    /// Rewrites an existing session; `false` when it no longer exists (ended meanwhile: logout elsewhere, password
    /// change), in which case nothing is written, so an ended session never comes back.
    func update(_ record: SessionRecord) async throws -> Bool
    /// Moves an existing session's `lastSeenAt`; `false` when it no longer exists.
    func touch(key: String, lastSeenAt: Date) async throws -> Bool
    func delete(key: String) async throws
    /// Ends every session of a user (logout everywhere, password change), except `key` if given.
    func deleteAll(userID: String, except key: String?) async throws
    /// Removes sessions idle since before `idleBefore` or created before `createdBefore`; returns how many.
    func deleteExpired(idleBefore: Date, createdBefore: Date) async throws -> Int
    /// Signed-in sessions seen since `seenAfter`, most recently seen first (of one user when given): what a staff
    /// page lists. Keys are never returned.
    func signedIn(userID: String?, seenAfter: Date, limit: Int) async throws -> [SessionSummary]
}

/// A signed-in session as staff see it: whose, when it began, when it was last used. Never its key.
public struct SessionSummary: Sendable, Equatable, Codable {
    public let userID: String
    public let createdAt: Date
    public let lastSeenAt: Date

    public init(userID: String, createdAt: Date, lastSeenAt: Date) {
        self.userID = userID
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

extension SessionStore {
    static func hash(_ key: String) -> String {
        Hex.encode(SHA256.hash(data: Data(key.utf8)))
    }
}


/// Sessions in this process only: for tests and single-instance development.
public actor MemorySessionStore: SessionStore {
    private var records: [String: SessionRecord] = [:]

    public init() {}

    public func load(key: String) async throws -> SessionRecord? { records[Self.hash(key)] }
    public func insert(_ record: SessionRecord) async throws { records[Self.hash(record.key)] = record }

    public func update(_ record: SessionRecord) async throws -> Bool {
        let hash = Self.hash(record.key)
        guard records[hash] != nil else { return false }
        records[hash] = record
        return true
    }

    public func touch(key: String, lastSeenAt: Date) async throws -> Bool {
        let hash = Self.hash(key)
        guard records[hash] != nil else { return false }
        records[hash]?.lastSeenAt = lastSeenAt
        return true
    }
    public func delete(key: String) async throws { records[Self.hash(key)] = nil }

    public func deleteAll(userID: String, except key: String?) async throws {
        let keep = key.map(Self.hash)
        records = records.filter { $0.value.userID != userID || $0.key == keep }
    }

    public func signedIn(userID: String?, seenAfter: Date, limit: Int) async throws -> [SessionSummary] {
        records.values.filter { $0.userID != nil && (userID == nil || $0.userID == userID) && $0.lastSeenAt > seenAfter }
            .sorted { $0.lastSeenAt > $1.lastSeenAt }.prefix(max(0, limit))
            .map { SessionSummary(userID: $0.userID!, createdAt: $0.createdAt, lastSeenAt: $0.lastSeenAt) }
    }

    public func deleteExpired(idleBefore: Date, createdBefore: Date) async throws -> Int {
        let before = records.count
        records = records.filter { $0.value.lastSeenAt >= idleBefore && $0.value.createdAt >= createdBefore }
        return before - records.count
    }
}

/// Sessions in the application database (SQLite or PostgreSQL), shared by every instance: table `keel_sessions`,
/// created by the migration `keel.0001_sessions`.
public struct SQLSessionStore: SessionStore {
    static let table = "keel_sessions"
    let database: KeelDatabase

    public init(database: KeelDatabase) {
        self.database = database
    }

    /// The migration that creates the table and its indexes.
    public static var migration: any KeelMigration {
        NamedMigration("keel.0001_sessions", prepare: { db in
            let sql = db.sql
            try await sql.create(table: table)
                .column("key_hash", type: .text, .primaryKey(autoIncrement: false))
                .column("user_id", type: .text)
                .column("data", type: .text, .notNull)
                .column("csrf_secret", type: .text, .notNull)
                .column("created_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                .column("last_seen_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                .run()
            try await db.createIndex("keel_sessions_user_idx", on: table, columns: ["user_id"])
            try await db.createIndex("keel_sessions_last_seen_idx", on: table, columns: ["last_seen_at"])
        }, revert: { db in
            let sql = db.sql
            try await sql.drop(table: table).run()
        })
    }

    struct Row: Codable {
        let key_hash: String
        let user_id: String?
        let data: String
        let csrf_secret: String
        let created_at: Double
        let last_seen_at: Double
    }

    public func load(key: String) async throws -> SessionRecord? {
        guard let row = try await database.sql.select().columns("key_hash", "user_id", "data", "csrf_secret", "created_at", "last_seen_at")
            .from(Self.table).where("key_hash", .equal, Self.hash(key)).first(decoding: Row.self) else { return nil }
        let data = (try? JSONDecoder().decode([String: String].self, from: Data(row.data.utf8))) ?? [:]
        return SessionRecord(key: key, userID: row.user_id, data: data, csrfSecret: row.csrf_secret,
                             createdAt: Date(timeIntervalSince1970: row.created_at), lastSeenAt: Date(timeIntervalSince1970: row.last_seen_at))
    }

    public func insert(_ record: SessionRecord) async throws {
        let data = String(decoding: try JSONEncoder().encode(record.data), as: UTF8.self)
        let row = Row(key_hash: Self.hash(record.key), user_id: record.userID, data: data, csrf_secret: record.csrfSecret,
                      created_at: record.createdAt.timeIntervalSince1970, last_seen_at: record.lastSeenAt.timeIntervalSince1970)
        try await database.sql.insert(into: Self.table).model(row).run()
    }

    public func update(_ record: SessionRecord) async throws -> Bool {
        let data = String(decoding: try JSONEncoder().encode(record.data), as: UTF8.self)
        let rows = try await database.sql.update(Self.table)
            .set("user_id", to: record.userID).set("data", to: data).set("csrf_secret", to: record.csrfSecret)
            .set("last_seen_at", to: record.lastSeenAt.timeIntervalSince1970)
            .where("key_hash", .equal, Self.hash(record.key))
            .returning("key_hash").all()
        return !rows.isEmpty
    }

    public func touch(key: String, lastSeenAt: Date) async throws -> Bool {
        let rows = try await database.sql.update(Self.table).set("last_seen_at", to: lastSeenAt.timeIntervalSince1970)
            .where("key_hash", .equal, Self.hash(key)).returning("key_hash").all()
        return !rows.isEmpty
    }

    public func delete(key: String) async throws {
        try await database.sql.delete(from: Self.table).where("key_hash", .equal, Self.hash(key)).run()
    }

    public func deleteAll(userID: String, except key: String?) async throws {
        var query = database.sql.delete(from: Self.table).where("user_id", .equal, userID)
        if let key { query = query.where("key_hash", .notEqual, Self.hash(key)) }
        try await query.run()
    }

    public func signedIn(userID: String?, seenAfter: Date, limit: Int) async throws -> [SessionSummary] {
        struct Row: Decodable {
            let user_id: String
            let created_at: Double
            let last_seen_at: Double
        }
        var query = database.sql.select().columns("user_id", "created_at", "last_seen_at").from(Self.table)
            .where("user_id", .isNot, SQLLiteral.null).where("last_seen_at", .greaterThan, seenAfter.timeIntervalSince1970)
        if let userID { query = query.where("user_id", .equal, userID) }
        return try await query.orderBy("last_seen_at", .descending).limit(max(0, min(limit, 10_000))).all(decoding: Row.self).map {
            SessionSummary(userID: $0.user_id, createdAt: Date(timeIntervalSince1970: $0.created_at), lastSeenAt: Date(timeIntervalSince1970: $0.last_seen_at))
        }
    }

    public func deleteExpired(idleBefore: Date, createdBefore: Date) async throws -> Int {
        // One statement: the count is exactly what was deleted.
        try await database.sql.delete(from: Self.table)
            .where("last_seen_at", .lessThan, idleBefore.timeIntervalSince1970)
            .orWhere("created_at", .lessThan, createdBefore.timeIntervalSince1970)
            .returning("key_hash")
            .all().count
    }
}
