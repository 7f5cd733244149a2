public import Foundation
public import KeelData
public import Logging
import Crypto
import KeelCore
import HTTPTypes
import SQLKit

/// Login throttling in the manner of django-axes: failures are counted per account and per client address in the
/// database (so every instance shares them); past the limit, logins are refused with a 429 and `Retry-After` until the
/// lockout ends. A success clears the account's count. Keys are stored hashed: no e-mail addresses in this table.
///
/// ```swift
/// try await throttle.check(account: email, client: context.security.clientAddress)   // 429 when locked out
/// guard passwordMatches else {
///     try await throttle.recordFailure(account: email, client: context.security.clientAddress, logger: context.logger)
///     throw KeelError(.unauthorized)
/// }
/// try await throttle.recordSuccess(account: email)
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
            try await (db as! any SQLDatabase).create(table: table)
                .column("scope", type: .text, .notNull)
                .column("key_hash", type: .text, .notNull)
                .column("failures", type: .bigint, .notNull)
                .column("window_start", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
                .column("locked_until", type: .custom(SQLRaw("DOUBLE PRECISION")))
                .primaryKey("scope", "key_hash")
                .run()
        }, revert: { db in
            try await (db as! any SQLDatabase).drop(table: table).run()
        })
    }

    /// Throws a 429 (`auth.locked_out`, with `Retry-After`) while the account or the client is locked out.
    public func check(account: String, client: String?) async throws {
        let now = clock().timeIntervalSince1970
        var keys = [("account", Self.hash(account))]
        if let client { keys.append(("client", Self.hash(client))) }
        for (scope, hash) in keys {
            struct Row: Decodable { let locked_until: Double? }
            let row = try await database.sql.select().column("locked_until").from(Self.table)
                .where("scope", .equal, scope).where("key_hash", .equal, hash).first(decoding: Row.self)
            if let until = row?.locked_until, until > now {
                let retry = Int((until - now).rounded(.up))
                throw KeelError(.tooManyRequests, code: "auth.locked_out",
                                message: "Too many failed logins. Try again in \(retry) seconds.", headers: [.retryAfter: String(retry)])
            }
        }
    }

    /// Counts a failure for the account and the client; locks either out when it reaches its limit.
    public func recordFailure(account: String, client: String?, logger: Logger) async throws {
        try await count("account", Self.hash(account), limit: limits.maxFailures, logger: logger)
        if let client { try await count("client", Self.hash(client), limit: limits.maxClientFailures, logger: logger) }
    }

    /// Clears the account's failures after a successful login.
    public func recordSuccess(account: String) async throws {
        try await database.sql.delete(from: Self.table).where("scope", .equal, "account").where("key_hash", .equal, Self.hash(account)).run()
    }

    private func count(_ scope: String, _ hash: String, limit: Int, logger: Logger) async throws {
        let now = clock().timeIntervalSince1970
        let windowStart = now - seconds(limits.window)
        // One statement, so concurrent failures on several instances never lose a count.
        struct Row: Decodable { let failures: Int }
        let row = try await database.sql.raw("""
            INSERT INTO keel_login_failures (scope, key_hash, failures, window_start, locked_until)
            VALUES (\(bind: scope), \(bind: hash), 1, \(bind: now), NULL)
            ON CONFLICT (scope, key_hash) DO UPDATE SET
                failures = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN 1 ELSE keel_login_failures.failures + 1 END,
                window_start = CASE WHEN keel_login_failures.window_start < \(bind: windowStart) THEN \(bind: now) ELSE keel_login_failures.window_start END
            RETURNING failures
            """).first(decoding: Row.self)
        guard let failures = row?.failures, failures >= limit else { return }
        let until = now + seconds(limits.lockout)
        try await database.sql.update(Self.table).set("locked_until", to: until).set("failures", to: 0).set("window_start", to: now)
            .where("scope", .equal, scope).where("key_hash", .equal, hash).run()
        logger.warning("login lockout", metadata: [
            "keel.security.event": "login_lockout", "throttle.scope": .string(scope), "throttle.key": .string(String(hash.prefix(12))),
            "throttle.failures": .stringConvertible(failures),
        ])
    }

    static func hash(_ key: String) -> String {
        SHA256.hash(data: Data("keel.throttle:\(key.lowercased())".utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
