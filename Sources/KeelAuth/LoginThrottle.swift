public import Foundation
public import KeelData
public import Logging
import Crypto
import KeelCore
import KeelSecurity
import HTTPTypes
import SQLKit

/// Login throttling in the manner of django-axes: attempts are counted in the database (so every instance shares them)
/// per account-and-client pair and per client address; past a limit, logins are refused with a 429 and `Retry-After`
/// until the lockout ends. Keys are stored hashed: no e-mail or IP addresses in the table.
///
/// An attempt is counted *before* the password is checked, in one statement, so a burst of parallel guesses cannot
/// slip past the limit; a success takes its attempt back. Locking the pair (not the account alone) keeps anyone from
/// locking a known user out from elsewhere; the per-client limit stops one client spraying many accounts. IPv6
/// clients are keyed by their /64.
///
/// ```swift
/// try await app.loginThrottle.attempt(account: email, client: context.security.clientAddress, logger: context.logger)
/// guard passwordMatches else { throw KeelError(.unauthorized) }       // the attempt stays counted
/// try await app.loginThrottle.succeeded(account: email, client: context.security.clientAddress)
/// ```
public struct LoginThrottle: Sendable {
    static let table = "keel_login_failures"

    public struct Limits: Sendable {
        public var maxFailures: Int
        public var maxClientFailures: Int
        public var window: Duration
        public var lockout: Duration

        public init(maxFailures: Int = 5, maxClientFailures: Int = 20, window: Duration = .seconds(900), lockout: Duration = .seconds(900)) {
            self.maxFailures = maxFailures
            self.maxClientFailures = maxClientFailures
            self.window = window
            self.lockout = lockout
        }
    }

    let database: KeelDatabase
    let limits: Limits
    let clock: @Sendable () -> Date

    public init(database: KeelDatabase, limits: Limits, clock: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.limits = limits
        self.clock = clock
    }

    /// The migration that creates the counters table.
    public static var migration: any KeelMigration {
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
        })
    }

    /// Counts a login attempt and throws a 429 (`auth.locked_out`, with `Retry-After`) when the pair or the client is
    /// locked out, or this attempt reaches a limit (the lockout then starts and is logged as a security event).
    public func attempt(account: String, client: String?, logger: Logger) async throws {
        let clientKey = client.map(Self.clientKey) ?? "-"
        try await count("pair", Self.hash("\(account.lowercased())|\(clientKey)"), limit: limits.maxFailures, logger: logger)
        if client != nil { try await count("client", Self.hash(clientKey), limit: limits.maxClientFailures, logger: logger) }
    }

    /// Takes back a successful attempt: clears the pair's count and gives the client its attempt back.
    public func succeeded(account: String, client: String?) async throws {
        let clientKey = client.map(Self.clientKey) ?? "-"
        try await database.sql.delete(from: Self.table).where("scope", .equal, "pair")
            .where("key_hash", .equal, Self.hash("\(account.lowercased())|\(clientKey)")).run()
        if client != nil {
            try await database.sql.raw("""
                UPDATE keel_login_failures SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END
                WHERE scope = 'client' AND key_hash = \(bind: Self.hash(clientKey))
                """).run()
        }
    }

    private func count(_ scope: String, _ hash: String, limit: Int, logger: Logger) async throws {
        let now = clock().timeIntervalSince1970
        let windowStart = now - limits.window.inSeconds
        // One statement: concurrent attempts on several instances each see their own count.
        struct Row: Decodable {
            let failures: Int
            let locked_until: Double?
        }
        let row = try await database.sql.raw("""
            INSERT INTO keel_login_failures (scope, key_hash, failures, window_start, locked_until)
            VALUES (\(bind: scope), \(bind: hash), 1, \(bind: now), NULL)
            ON CONFLICT (scope, key_hash) DO UPDATE SET
                failures = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN 1 ELSE keel_login_failures.failures + 1 END,
                window_start = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN \(bind: now) ELSE keel_login_failures.window_start END
            RETURNING failures, locked_until
            """).first(decoding: Row.self)
        if let until = row?.locked_until, until > now {
            throw lockedOut(retry: until - now)
        }
        guard let failures = row?.failures, failures > limit else { return }
        let until = now + limits.lockout.inSeconds
        try await database.sql.update(Self.table).set("locked_until", to: until).set("failures", to: 0).set("window_start", to: now)
            .where("scope", .equal, scope).where("key_hash", .equal, hash).run()
        logger.warning("login lockout", metadata: [
            "keel.security.event": "login_lockout", "throttle.scope": .string(scope), "throttle.key": .string(String(hash.prefix(12))),
            "throttle.attempts": .stringConvertible(failures),
        ])
        throw lockedOut(retry: until - now)
    }

    func lockedOut(retry: Double) -> KeelError {
        let seconds = max(1, Int(retry.rounded(.up)))
        return KeelError(.tooManyRequests, code: "auth.locked_out",
                         message: "Too many failed logins. Try again in \(seconds) seconds.", headers: [.retryAfter: String(seconds)])
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
