public import Foundation
public import KeelData
public import Logging
import Crypto
public import KeelCore
import KeelSecurity
import HTTPTypes
import SQLKit
import Synchronization
import NIOCore
import NIOPosix

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
    static let checksTable = "keel_login_checks"

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

    /// A reservation older than this is taken to belong to a process that died mid-check (kill -9) and no longer counts.
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
                let sql = db.sql
                try await sql.create(table: table)
                    .column("scope", type: .text, .notNull)
                    .column("key_hash", type: .text, .notNull)
                    .column("failures", type: .bigint, .notNull)
                    .column("window_start", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                    .column("locked_until", type: .custom(SQLRaw("DOUBLE PRECISION")))
                    .primaryKey("scope", "key_hash")
                    .run()
            }, revert: { db in
                let sql = db.sql
                try await sql.drop(table: table).run()
            }),
            NamedMigration("keel.0003_login_checks", prepare: { db in
                let sql = db.sql
                try await sql.create(table: checksTable)
                    .column("check_id", type: .text, .notNull)
                    .column("scope", type: .text, .notNull)
                    .column("key_hash", type: .text, .notNull)
                    .column("started_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                    .primaryKey("check_id", "scope")
                    .run()
                try await db.createIndex("keel_login_checks_key_idx", on: checksTable, columns: ["scope", "key_hash", "started_at"])
            }, revert: { db in
                let sql = db.sql
                try await sql.drop(table: checksTable).run()
            }),
        ]
    }

    /// Runs `verify` (the password check) under the throttle and returns its answer.
    ///
    /// Throws a 429 (`auth.locked_out`, with `Retry-After`) without calling `verify` when the pair or the client is
    /// locked out, when this check would pass a limit (the lockout then starts and is logged as a security event), or
    /// when it waited `maxWait` for checks in flight. `false` counts as a failure, `true` clears the pair's failures;
    /// an error thrown by `verify` counts as neither and is rethrown.
    ///
    /// A refused password and a lockout are recorded as events for the audit trail (`events`, about `subject` when
    /// the account is known; the account itself is personal data, sealed with the subject's key). Record the
    /// success yourself once the sign-in is really allowed (an active account).
    public func check(
        account: String, client: String?, logger: Logger, subject: String? = nil, events: LoginEvents = .signIn,
        _ verify: () async throws -> Bool
    ) async throws -> Bool {
        do {
            let valid = try await throttledCheck(account: account, client: client, logger: logger, verify)
            if !valid {
                try await database.record(ChangeEvent(events.failure, subject: subject, details: ["account": account], personal: ["account"]))
            }
            return valid
        } catch let error as KeelError where error.code == .lockedOut {
            try await database.record(ChangeEvent(events.lockout, subject: subject, details: ["account": account], personal: ["account"]))
            throw error
        }
    }

    private func throttledCheck(account: String, client: String?, logger: Logger, _ verify: () async throws -> Bool) async throws -> Bool {
        let clientKey = client.map(Self.clientKey) ?? "-"
        var scopes = [Scope(name: "pair", hash: Self.hash("\(account.lowercased())|\(clientKey)"), limit: limits.maxFailures)]
        if client != nil { scopes.append(Scope(name: "client", hash: Self.hash(clientKey), limit: limits.maxClientFailures)) }
        let deadline = ContinuousClock.now + limits.maxWait
        do {
            try await gate.enter(scopes[0].hash, limit: limits.maxFailures, until: deadline)
        } catch is FairGate.TimedOut {
            throw waitedTooLong(logger)
        }
        defer { gate.leave(scopes[0].hash) }
        let checkID = Hex.encode(SecureRandom.bytes(16))
        try await reserve(scopes, checkID: checkID, until: deadline, logger: logger)
        let valid: Bool
        do {
            valid = try await verify()
        } catch {
            try? await settle(scopes, checkID: checkID, outcome: nil)
            throw error
        }
        try await settle(scopes, checkID: checkID, outcome: valid)
        return valid
    }

    func waitedTooLong(_ logger: Logger) -> KeelError {
        logger.info("login check waited too long for others in flight", metadata: ["keel.security.event": "login_busy"])
        return lockedOut(retry: 1)
    }

    struct Scope {
        let name: String
        let hash: String
        let limit: Int
    }

    private struct Counters {
        let failures: Int
        let inFlight: Int
        let lockedUntil: Double?
    }

    private enum Decision {
        case go
        case wait
        case refuse(KeelError)
    }

    /// Reserves the check in every scope, waiting (with jittered back-off) while checks in flight could pass a limit.
    /// On any error, every reservation made so far is released before the error goes up.
    private func reserve(_ scopes: [Scope], checkID: String, until deadline: ContinuousClock.Instant, logger: Logger) async throws {
        var pause = Duration.milliseconds(10)
        while true {
            var reserved: [Scope] = []
            var decision = Decision.go
            do {
                for scope in scopes {
                    reserved.append(scope)
                    let counters = try await reserve(scope, checkID: checkID)
                    decision = try await decide(scope, counters, logger: logger)
                    if case .go = decision { continue }
                    break
                }
            } catch {
                try? await settle(reserved, checkID: checkID, outcome: nil)
                throw error
            }
            switch decision {
            case .go:
                return
            case .refuse(let error):
                try await settle(reserved, checkID: checkID, outcome: nil)
                throw error
            case .wait:
                try await settle(reserved, checkID: checkID, outcome: nil)
                guard ContinuousClock.now < deadline else { throw waitedTooLong(logger) }
                try await Task.sleep(for: pause * Double.random(in: 0.5...1.5))
                pause = min(pause * 2, .milliseconds(250))
            }
        }
    }

    private func decide(_ scope: Scope, _ counters: Counters, logger: Logger) async throws -> Decision {
        let now = clock().timeIntervalSince1970
        if let until = counters.lockedUntil, until > now { return .refuse(lockedOut(retry: until - now)) }
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
        // This check is among those counted: it may go ahead if every check in flight could fail without passing the limit.
        return counters.failures + counters.inFlight <= scope.limit ? .go : .wait
    }

    /// Records this check as in flight, counts the checks in flight (its own included), then reads the scope's failures
    /// (restarting an expired window). Settling does the reverse (the failure is added before the reservation goes),
    /// and each statement commits before the next, so whatever the interleaving a check that settles as a failure is
    /// counted as in flight, as a failure, or as both, never as neither: concurrent checks may wait for nothing, but
    /// never pass the limit together. A reservation older than `staleReservation` (its process died) no longer counts.
    private func reserve(_ scope: Scope, checkID: String) async throws -> Counters {
        let now = clock().timeIntervalSince1970
        let windowStart = now - limits.window.inSeconds
        let stale = now - Self.staleReservation
        let sql = database.sql
        try await sql.raw("""
            INSERT INTO keel_login_checks (check_id, scope, key_hash, started_at)
            VALUES (\(bind: checkID), \(bind: scope.name), \(bind: scope.hash), \(bind: now))
            ON CONFLICT (check_id, scope) DO UPDATE SET started_at = \(bind: now)
            """).run()
        struct Count: Decodable { let n: Int }
        let inFlight = try await sql.raw("""
            SELECT COUNT(*) AS n FROM keel_login_checks
            WHERE scope = \(bind: scope.name) AND key_hash = \(bind: scope.hash) AND started_at > \(bind: stale)
            """).first(decoding: Count.self)
        struct Row: Decodable {
            let failures: Int
            let locked_until: Double?
        }
        let row = try await sql.raw("""
            INSERT INTO keel_login_failures (scope, key_hash, failures, window_start, locked_until)
            VALUES (\(bind: scope.name), \(bind: scope.hash), 0, \(bind: now), NULL)
            ON CONFLICT (scope, key_hash) DO UPDATE SET
                failures = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN 0 ELSE keel_login_failures.failures END,
                window_start = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN \(bind: now) ELSE keel_login_failures.window_start END
            RETURNING failures, locked_until
            """).first(decoding: Row.self)
        guard let row, let inFlight else { throw KeelError(.internalServerError, message: "The login throttle could not count a check.") }
        return Counters(failures: row.failures, inFlight: inFlight.n, lockedUntil: row.locked_until)
    }

    /// Ends the check in every scope, trying each even if one fails: `false` adds a failure, `true` clears the pair's
    /// failures, `nil` only releases. Stale reservations of those scopes are swept on the way.
    private func settle(_ scopes: [Scope], checkID: String, outcome: Bool?) async throws {
        let sql = database.sql
        let stale = clock().timeIntervalSince1970 - Self.staleReservation
        var firstError: (any Error)?
        // Failures first, then the reservations: see `reserve(_:checkID:)` for why the order matters.
        for scope in scopes {
            let failures: SQLQueryString? = switch (outcome, scope.name) {
            case (false?, _): "failures + 1"
            case (true?, "pair"): "0"
            default: nil
            }
            guard let failures else { continue }
            do {
                try await sql.raw("""
                    UPDATE keel_login_failures SET failures = \(failures) WHERE scope = \(bind: scope.name) AND key_hash = \(bind: scope.hash)
                    """).run()
            } catch {
                firstError = firstError ?? error
            }
        }
        // This check's reservations, and any of its scopes' left by a process that died mid-check.
        let hashes = scopes.isEmpty ? ["-"] : scopes.map(\.hash)
        do {
            try await sql.raw("""
                DELETE FROM keel_login_checks
                WHERE check_id = \(bind: checkID) OR (key_hash IN (\(binds: hashes)) AND started_at < \(bind: stale))
                """).run()
        } catch {
            firstError = firstError ?? error
        }
        if let firstError { throw firstError }
    }

    func lockedOut(retry: Double) -> KeelError {
        let seconds = max(1, Int(retry.rounded(.up)))
        return KeelError(.tooManyRequests, code: .lockedOut,
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

extension ErrorCode {
    /// `auth.locked_out`: Too many failed logins for the account or the client; `Retry-After` says when.
    public static let lockedOut: ErrorCode = "auth.locked_out"
}

/// The names a login check records its refusals under (`LoginThrottle.check`).
public struct LoginEvents: Sendable, Equatable {
    /// A wrong password.
    public let failure: String
    /// Too many failures: the check was refused without looking at the password.
    public let lockout: String

    public init(failure: String, lockout: String) {
        self.failure = failure
        self.lockout = lockout
    }

    /// Signing in: `auth.sign_in_failed`, `auth.locked_out`.
    public static let signIn = LoginEvents(failure: "auth.sign_in_failed", lockout: "auth.locked_out")
}
