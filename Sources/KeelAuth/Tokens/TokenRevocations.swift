import Foundation
import KeelData
import KeelCore
import SQLKit
import Synchronization

/// API tokens issued before a point in time, per user: a deactivated account, a required new password or "sign out
/// everywhere" end the tokens already handed out, not only the sessions (`app.revokeTokens(of:)`).
///
/// Checking a token must not cost a query (the API's hot path), so each instance keeps the recent revocations in
/// memory and reloads them from `keel_token_revocations` at most every `refresh` (5 s): a revocation made on this
/// instance counts at once, one made on another within that time.
public final class TokenRevocations: Sendable {
    private struct State {
        var notBefore: [String: Date] = [:]
        var loadedAt: ContinuousClock.Instant?
        var loading = false
    }

    private let state = Mutex(State())
    let database: KeelDatabase
    let refresh: Duration
    /// Revocations older than this no longer matter: every token issued before them has expired.
    let lifetime: Duration
    let clock: @Sendable () -> Date

    init(database: KeelDatabase, refresh: Duration = .seconds(5), lifetime: Duration, clock: @escaping @Sendable () -> Date) {
        self.database = database
        self.refresh = refresh
        self.lifetime = lifetime
        self.clock = clock
    }

    static let table = "keel_token_revocations"

    /// Ends every token issued to the user until now: stored for every instance, counted at once on this one.
    public func revoke(userID: String) async throws {
        let now = clock()
        // One statement, so two revocations of one user at once cannot both insert.
        try await database.sql.insert(into: Self.table).columns("user_id", "not_before")
            .values(SQLBind(userID), SQLBind(now.timeIntervalSince1970))
            .onConflict(with: ["user_id"]) { $0.set(excludedValueOf: "not_before") }
            .run()
        noteRevoked(userID: userID, at: now)
    }

    /// Whether a token of the user issued at `issuedAt` was revoked since.
    func isRevoked(userID: String, issuedAt: Date) async -> Bool {
        await reloadIfStale()
        return state.withLock { $0.notBefore[userID].map { issuedAt < $0 } ?? false }
    }

    /// Notes a revocation made on this instance, so it counts before the next reload.
    func noteRevoked(userID: String, at date: Date) {
        state.withLock { $0.notBefore[userID] = date }
    }

    private func reloadIfStale() async {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            guard !state.loading, state.loadedAt.map({ now - $0 >= refresh }) ?? true else { return false }
            state.loading = true
            return true
        }
        guard due else { return }
        struct Row: Decodable {
            let user_id: String
            let not_before: Double
        }
        let since = clock().addingTimeInterval(-lifetime.inSeconds).timeIntervalSince1970
        // The instance's reload, not the request's work: outside its query recorder (budgets, N+1, Server-Timing).
        let rows = try? await QueryRecorder.unrecorded {
            try await database.sql.select().columns("user_id", "not_before").from(Self.table)
                .where("not_before", .greaterThan, since).all(decoding: Row.self)
        }
        state.withLock { state in
            state.loading = false
            // A failed reload keeps what was known and tries again on the next request.
            guard let rows else { return }
            var loaded: [String: Date] = [:]
            for row in rows { loaded[row.user_id] = Date(timeIntervalSince1970: row.not_before) }
            for (user, date) in state.notBefore where (loaded[user] ?? .distantPast) < date { loaded[user] = date }
            state.notBefore = loaded
            state.loadedAt = now
        }
    }
}

extension TokenRevocations {
    /// `auth.0006_token_revocations`: the revocations' own table. They were a column of the access tables
    /// (`keel_users.tokens_not_before`); a database that has it keeps what it recorded.
    static var migration: any KeelMigration {
        NamedMigration("auth.0006_token_revocations", prepare: { db in
            let sql = db.sql
            try await sql.create(table: table)
                .column("user_id", type: .text, .primaryKey(autoIncrement: false))
                .column("not_before", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                .run()
            if try await hasLegacyColumn(sql) {
                try await sql.raw("""
                    INSERT INTO keel_token_revocations (user_id, not_before)
                    SELECT user_id, tokens_not_before FROM keel_users WHERE tokens_not_before IS NOT NULL
                    """).run()
            }
        }, revert: { db in
            try await db.sql.drop(table: table).run()
        })
    }

    /// Whether `keel_users.tokens_not_before` exists (a database migrated before the revocations had a table).
    static func hasLegacyColumn(_ sql: any SQLDatabase) async throws -> Bool {
        if sql.dialect.name == "sqlite" {
            return try await sql.raw("SELECT name FROM pragma_table_info('keel_users') WHERE name = 'tokens_not_before'").first() != nil
        }
        return try await sql.raw("""
            SELECT 1 AS present FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = 'keel_users' AND column_name = 'tokens_not_before'
            """).first() != nil
    }
}
