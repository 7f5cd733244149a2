import Foundation
import KeelData
import KeelCore
import SQLKit
import Synchronization

/// API tokens issued before a point in time, per user: a deactivated account, a required new password or "sign out
/// everywhere" end the tokens already handed out, not only the sessions (`AccessControl.revokeTokens(of:)`).
///
/// Checking a token must not cost a query (the API's hot path), so each instance keeps the recent revocations in
/// memory and reloads them from `keel_users.tokens_not_before` at most every `refresh` (5 s): a revocation made on
/// this instance counts at once, one made on another within that time.
final class TokenRevocations: Sendable {
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
            let tokens_not_before: Double
        }
        let since = clock().addingTimeInterval(-lifetime.inSeconds).timeIntervalSince1970
        // The instance's reload, not the request's work: outside its query recorder (budgets, N+1, Server-Timing).
        let rows = try? await QueryRecorder.unrecorded {
            try await database.sql.select().columns("user_id", "tokens_not_before").from(Tables.users)
                .where("tokens_not_before", .greaterThan, since).all(decoding: Row.self)
        }
        state.withLock { state in
            state.loading = false
            // A failed reload keeps what was known and tries again on the next request.
            guard let rows else { return }
            var loaded: [String: Date] = [:]
            for row in rows { loaded[row.user_id] = Date(timeIntervalSince1970: row.tokens_not_before) }
            for (user, date) in state.notBefore where (loaded[user] ?? .distantPast) < date { loaded[user] = date }
            state.notBefore = loaded
            state.loadedAt = now
        }
    }
}
