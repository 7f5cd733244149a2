public import Foundation
public import KeelData
public import Logging
import Crypto
import KeelCore
import KeelSecurity
import HTTPTypes
import SQLKit
import Synchronization

/// Login throttling in the manner of django-axes: failures are counted in the database (so every instance shares them)
/// per account-and-client pair and per client address; past a limit, logins are refused with a 429 and `Retry-After`
/// until the lockout ends. Keys are stored hashed: no e-mail or IP addresses in the table.
///
/// A check is *reserved* before the password is verified, in one statement, and settled after: a failure counts, a
/// success clears the pair. A new check may start only while settled failures plus checks in flight stay within the
/// limit, so a burst of parallel guesses cannot get more than the limit verified. A burst of *correct* logins (a
/// script, a load test, an office behind one address) is not refused for it: checks over the limit wait, briefly, for
/// those in flight to settle, and go ahead when they succeeded. Locking the pair (not the account alone) keeps anyone
/// from locking a known user out from elsewhere; the per-client limit stops one client spraying many accounts. IPv6
/// clients are keyed by their /64.
///
/// ```swift
/// let valid = try await app.loginThrottle.check(account: email, client: context.security.clientAddress, logger: context.logger) {
///     try await app.passwordHasher.verify(password, against: user.passwordHash)
/// }
/// guard valid else { throw KeelError(.unauthorized) }
/// ```
public struct LoginThrottle: Sendable {
    static let table = "keel_login_failures"

    public struct Limits: Sendable {
        public var maxFailures: Int
        public var maxClientFailures: Int
        public var window: Duration
        public var lockout: Duration
        /// How long a check waits for others in flight before it is refused with a 429.
        public var maxWait: Duration

        public init(
            maxFailures: Int = 5, maxClientFailures: Int = 20, window: Duration = .seconds(900), lockout: Duration = .seconds(900),
            maxWait: Duration = .seconds(20)
        ) {
            self.maxFailures = maxFailures
            self.maxClientFailures = maxClientFailures
            self.window = window
            self.lockout = lockout
            self.maxWait = maxWait
        }
    }

    /// A reservation older than this is taken to belong to a process that died mid-check (kill -9) and is dropped.
    static let staleReservation: Double = 120

    let database: KeelDatabase
    let limits: Limits
    let clock: @Sendable () -> Date
    /// Checks of one pair in this process queue here first, in arrival order, so a burst waits its turn instead of
    /// polling the database; the database reservation still holds the limit across instances.
    let gate = FairGate()

    public init(database: KeelDatabase, limits: Limits, clock: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.limits = limits
        self.clock = clock
    }

    /// The migrations that create the counters table.
    public static var migrations: [any KeelMigration] {
        [
            NamedMigration("keel.0002_login_failures", prepare: { db in
                guard let sql = db as? any SQLDatabase else { throw MigrationError.irreversible("keel.0002_login_failures") }
                try await sql.create(table: table)
                    .column("scope", type: .text, .notNull)
                    .column("key_hash", type: .text, .notNull)
                    .column("failures", type: .bigint, .notNull)
                    .column("window_start", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                    .column("locked_until", type: .custom(SQLRaw("DOUBLE PRECISION")))
                    .primaryKey("scope", "key_hash")
                    .run()
            }, revert: { db in
                guard let sql = db as? any SQLDatabase else { return }
                try await sql.drop(table: table).run()
            }),
            NamedMigration("keel.0003_login_checks_in_flight", prepare: { db in
                guard let sql = db as? any SQLDatabase else { throw MigrationError.irreversible("keel.0003_login_checks_in_flight") }
                try await sql.raw("ALTER TABLE keel_login_failures ADD COLUMN in_flight BIGINT NOT NULL DEFAULT 0").run()
                try await sql.raw("ALTER TABLE keel_login_failures ADD COLUMN in_flight_since DOUBLE PRECISION").run()
            }, revert: { db in
                guard let sql = db as? any SQLDatabase else { return }
                try await sql.raw("ALTER TABLE keel_login_failures DROP COLUMN in_flight_since").run()
                try await sql.raw("ALTER TABLE keel_login_failures DROP COLUMN in_flight").run()
            }),
        ]
    }

    /// Runs `verify` (the password check) under the throttle and returns its answer.
    ///
    /// Throws a 429 (`auth.locked_out`, with `Retry-After`) without calling `verify` when the pair or the client is
    /// locked out, when this check would pass a limit (the lockout then starts and is logged as a security event), or
    /// when it waited `maxWait` for checks in flight. `false` counts as a failure, `true` clears the pair's failures;
    /// an error thrown by `verify` counts as neither and is rethrown.
    public func check(account: String, client: String?, logger: Logger, _ verify: () async throws -> Bool) async throws -> Bool {
        let clientKey = client.map(Self.clientKey) ?? "-"
        var scopes = [Scope(name: "pair", hash: Self.hash("\(account.lowercased())|\(clientKey)"), limit: limits.maxFailures)]
        if client != nil { scopes.append(Scope(name: "client", hash: Self.hash(clientKey), limit: limits.maxClientFailures)) }
        try await gate.enter(scopes[0].hash, limit: limits.maxFailures)
        defer { gate.leave(scopes[0].hash) }
        try await reserve(scopes, logger: logger)
        let valid: Bool
        do {
            valid = try await verify()
        } catch {
            try? await settle(scopes, outcome: nil)
            throw error
        }
        try await settle(scopes, outcome: valid)
        return valid
    }

    struct Scope {
        let name: String
        let hash: String
        let limit: Int
    }

    private struct Counters: Decodable {
        let failures: Int
        let in_flight: Int
        let locked_until: Double?
    }

    private enum Decision {
        case go
        case wait
        case refuse(KeelError)
    }

    /// Reserves a check in every scope, waiting (with jittered back-off) while checks in flight could pass a limit.
    private func reserve(_ scopes: [Scope], logger: Logger) async throws {
        let started = ContinuousClock.now
        var pause = Duration.milliseconds(10)
        while true {
            var reserved: [Scope] = []
            var decision = Decision.go
            for scope in scopes {
                let counters = try await reserve(scope)
                reserved.append(scope)
                decision = try await decide(scope, counters, logger: logger)
                if case .go = decision { continue }
                break
            }
            switch decision {
            case .go:
                return
            case .refuse(let error):
                try await release(reserved)
                throw error
            case .wait:
                try await release(reserved)
                guard ContinuousClock.now - started < limits.maxWait else {
                    logger.info("login check waited too long for others in flight", metadata: ["keel.security.event": "login_busy"])
                    throw lockedOut(retry: 1)
                }
                try await Task.sleep(for: pause * Double.random(in: 0.5...1.5))
                pause = min(pause * 2, .milliseconds(250))
            }
        }
    }

    private func decide(_ scope: Scope, _ counters: Counters, logger: Logger) async throws -> Decision {
        let now = clock().timeIntervalSince1970
        if let until = counters.locked_until, until > now { return .refuse(lockedOut(retry: until - now)) }
        if counters.failures >= scope.limit {
            let until = now + limits.lockout.inSeconds
            try await database.sql.update(Self.table).set("locked_until", to: until).set("failures", to: 0).set("window_start", to: now)
                .where("scope", .equal, scope.name).where("key_hash", .equal, scope.hash).run()
            logger.warning("login lockout", metadata: [
                "keel.security.event": "login_lockout", "throttle.scope": .string(scope.name), "throttle.key": .string(String(scope.hash.prefix(12))),
                "throttle.attempts": .stringConvertible(counters.failures + 1),
            ])
            return .refuse(lockedOut(retry: until - now))
        }
        // This check is counted in `in_flight`: it may go ahead if every check in flight could fail without passing the limit.
        return counters.failures + counters.in_flight <= scope.limit ? .go : .wait
    }

    /// One statement, so concurrent checks on several instances each see every other's reservation.
    private func reserve(_ scope: Scope) async throws -> Counters {
        let now = clock().timeIntervalSince1970
        let windowStart = now - limits.window.inSeconds
        let stale = now - Self.staleReservation
        let row = try await database.sql.raw("""
            INSERT INTO keel_login_failures (scope, key_hash, failures, window_start, locked_until, in_flight, in_flight_since)
            VALUES (\(bind: scope.name), \(bind: scope.hash), 0, \(bind: now), NULL, 1, \(bind: now))
            ON CONFLICT (scope, key_hash) DO UPDATE SET
                failures = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN 0 ELSE keel_login_failures.failures END,
                window_start = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN \(bind: now) ELSE keel_login_failures.window_start END,
                in_flight = CASE WHEN keel_login_failures.in_flight_since IS NULL OR keel_login_failures.in_flight_since < \(bind: stale)
                    THEN 1 ELSE keel_login_failures.in_flight + 1 END,
                in_flight_since = \(bind: now)
            RETURNING failures, in_flight, locked_until
            """).first(decoding: Counters.self)
        guard let row else { throw KeelError(.internalServerError, message: "The login throttle could not count a check.") }
        return row
    }

    private func release(_ scopes: [Scope]) async throws {
        try await settle(scopes, outcome: nil)
    }

    /// Ends the check in every scope: `false` adds a failure, `true` clears the pair's failures, `nil` only releases.
    private func settle(_ scopes: [Scope], outcome: Bool?) async throws {
        for scope in scopes {
            let failures: SQLQueryString = switch (outcome, scope.name) {
            case (false?, _): "failures + 1"
            case (true?, "pair"): "0"
            default: "failures"
            }
            try await database.sql.raw("""
                UPDATE keel_login_failures
                SET in_flight = CASE WHEN in_flight > 0 THEN in_flight - 1 ELSE 0 END, failures = \(failures)
                WHERE scope = \(bind: scope.name) AND key_hash = \(bind: scope.hash)
                """).run()
        }
    }

    func lockedOut(retry: Double) -> KeelError {
        let seconds = max(1, Int(retry.rounded(.up)))
        return KeelError(.tooManyRequests, code: "auth.locked_out",
                         message: "Too many login attempts. Try again in \(seconds) seconds.", headers: [.retryAfter: String(seconds)])
    }

    /// The client's key: the address, or its /64 for IPv6 (one subscriber usually holds a whole /64).
    public static func clientKey(_ address: String) -> String {
        guard let bytes = IPAddressRange.parseBytes(address) else { return address }
        guard bytes.count == 16 else { return address }
        return Hex.encode(bytes.prefix(8)) + "/64"
    }

    static func hash(_ key: String) -> String {
        Hex.encode(SHA256.hash(data: Data("keel.throttle:\(key.lowercased())".utf8)))
    }

}

/// A per-key semaphore whose waiters go in arrival order; a cancelled waiter leaves the queue at once.
final class FairGate: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running: [String: Int] = [:]
        var waiting: [String: [Waiter]] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Waits until fewer than `limit` holders of `key` are inside; throws `CancellationError` if cancelled meanwhile.
    func enter(_ key: String, limit: Int) async throws {
        let id: UInt64? = state.withLock { state in
            if state.running[key, default: 0] < limit {
                state.running[key, default: 0] += 1
                return nil
            }
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let resumeNow: Bool = state.withLock { state in
                    // Cancelled before queueing, or a holder left between the two locks: do not wait.
                    if Task.isCancelled { return true }
                    if state.running[key, default: 0] < limit {
                        state.running[key, default: 0] += 1
                        return true
                    }
                    state.waiting[key, default: []].append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiting[key]?.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = state.waiting[key]!.remove(at: index)
                if state.waiting[key]!.isEmpty { state.waiting[key] = nil }
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Lets the next waiter in, or frees the place.
    func leave(_ key: String) {
        let next: Waiter? = state.withLock { state in
            if var queue = state.waiting[key], !queue.isEmpty {
                let first = queue.removeFirst()
                state.waiting[key] = queue.isEmpty ? nil : queue
                return first  // the place passes to it
            }
            let remaining = state.running[key, default: 1] - 1
            state.running[key] = remaining > 0 ? remaining : nil
            return nil
        }
        next?.continuation.resume()
    }
}
