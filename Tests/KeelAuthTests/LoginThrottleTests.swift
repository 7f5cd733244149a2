import Foundation
import HTTPTypes
import Keel
@testable import KeelAuth
import KeelTesting
import Logging
import SQLKit
import Synchronization
import Testing

@Suite struct LoginThrottleTests {
    let logger = Logger(label: "throttle-test") { _ in SwiftLogNoOpLogHandler() }

    /// Makes a check whose password verification answers `valid`; the 429 it throws when refused, else nil.
    func attempt(
        _ throttle: LoginThrottle, _ account: String, from client: String? = "198.51.100.7", valid: Bool = false, logger: Logger? = nil
    ) async throws -> KeelError? {
        do {
            _ = try await throttle.check(account: account, client: client, logger: logger ?? self.logger) { valid }
            return nil
        } catch let error as KeelError {
            return error
        }
    }

    @Test(arguments: TestDatabase.available)
    func aPairLocksOutAfterTheLimitAndUnlocksAfterTheLockout(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.sessions(
                values: ["security.loginThrottle.maxFailures": "3", "security.loginThrottle.lockout": "5m"], clock: clock, url: url)
            let throttle = app.keel.loginThrottle
            for _ in 0..<3 { #expect(try await attempt(throttle, "Ann@Example.com") == nil) }
            let error = try #require(try await attempt(throttle, "ann@example.com", valid: true))
            #expect(error.status == .tooManyRequests)
            #expect(error.code.rawValue == "auth.locked_out")
            #expect(error.headers[.retryAfter] == "300")
            // Locked means locked: even the right password is not checked.
            #expect(try await attempt(throttle, "ann@example.com", valid: true)?.status == .tooManyRequests)
            // The same account from elsewhere, and other accounts, are not locked: nobody can lock a user out remotely.
            #expect(try await attempt(throttle, "ann@example.com", from: "203.0.113.1") == nil)
            #expect(try await attempt(throttle, "bob@example.com") == nil)
            clock.advance(by: .seconds(301))
            #expect(try await attempt(throttle, "ann@example.com") == nil)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func successResetsThePairAndOldFailuresAgeOut(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.sessions(
                values: ["security.loginThrottle.maxFailures": "3", "security.loginThrottle.window": "10m"], clock: clock, url: url)
            let throttle = app.keel.loginThrottle
            for _ in 0..<2 { _ = try await attempt(throttle, "ann") }
            #expect(try await attempt(throttle, "ann", valid: true) == nil)
            for _ in 0..<3 { #expect(try await attempt(throttle, "ann") == nil) }  // the success cleared the two failures
            clock.advance(by: .seconds(11 * 60))
            #expect(try await attempt(throttle, "ann") == nil)  // the window restarted
            await app.keel.database.shutdown()
        }
    }

    /// Counts verifications running at once and in all.
    final class Verifications: Sendable {
        private let state = Mutex((running: 0, peak: 0, total: 0))
        var peak: Int { state.withLock { $0.peak } }
        var total: Int { state.withLock { $0.total } }

        func run(answer: Bool) async throws -> Bool {
            state.withLock { state in
                state.running += 1
                state.total += 1
                state.peak = max(state.peak, state.running)
            }
            defer { state.withLock { $0.running -= 1 } }
            try await Task.sleep(for: .milliseconds(30))
            return answer
        }
    }

    @Test(arguments: TestDatabase.available)
    func parallelGuessesCannotGetMoreThanTheLimitVerified(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxFailures": "5"], url: url)
            let throttle = app.keel.loginThrottle
            let verifications = Verifications()
            let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await throttle.check(account: "ann", client: "198.51.100.7", logger: logger) {
                                try await verifications.run(answer: false)
                            }
                            return false
                        } catch let error as KeelError where error.status == .tooManyRequests {
                            return true
                        }
                    }
                }
                var count = 0
                for try await wasRefused in group where wasRefused { count += 1 }
                return count
            }
            #expect(verifications.total == 5)
            #expect(refused == 15)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func parallelGuessesAcrossAccountsCannotPassTheClientLimit(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxClientFailures": "4"], url: url)
            let throttle = app.keel.loginThrottle
            let verifications = Verifications()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        _ = try? await throttle.check(account: "user\(index)", client: "203.0.113.9", logger: logger) {
                            try await verifications.run(answer: false)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(verifications.total == 4)  // one address, twelve accounts at once: only the client limit's worth checked
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func aBurstOfCorrectLoginsWaitsInsteadOfBeingLockedOut(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxFailures": "3"], url: url)
            let throttle = app.keel.loginThrottle
            let verifications = Verifications()
            let valid = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await throttle.check(account: "ann", client: "198.51.100.7", logger: logger) {
                            try await verifications.run(answer: true)
                        }
                    }
                }
                var count = 0
                for try await passed in group where passed { count += 1 }
                return count
            }
            #expect(valid == 16)
            #expect(verifications.total == 16)
            #expect(verifications.peak <= 3)  // never more checks in flight than failures the pair may still have
            // Nothing is left reserved: a failing streak still locks at the limit.
            for _ in 0..<3 { #expect(try await attempt(throttle, "ann") == nil) }
            #expect(try await attempt(throttle, "ann")?.status == .tooManyRequests)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func anErrorWhileVerifyingCountsAsNoFailure(backend: TestDatabase) async throws {
        struct Unavailable: Error {}
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxFailures": "2"], url: url)
            let throttle = app.keel.loginThrottle
            for _ in 0..<4 {
                await #expect(throws: Unavailable.self) {
                    try await throttle.check(account: "ann", client: "198.51.100.7", logger: logger) { throw Unavailable() }
                }
            }
            #expect(try await attempt(throttle, "ann") == nil)
            #expect(try await attempt(throttle, "ann") == nil)
            #expect(try await attempt(throttle, "ann")?.status == .tooManyRequests)
            await app.keel.database.shutdown()
        }
    }

    @Test func aClientTryingManyAccountsLocksOutAndIsLogged() async throws {
        let logs = CapturedLogs()
        let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxClientFailures": "4"])
        let throttle = app.keel.loginThrottle
        for index in 0..<4 {
            #expect(try await attempt(throttle, "user\(index)", from: "203.0.113.5", logger: logs.logger(label: "t")) == nil)
        }
        #expect(try await attempt(throttle, "someone-new", from: "203.0.113.5", logger: logs.logger(label: "t"))?.status == .tooManyRequests)
        #expect(try await attempt(throttle, "someone-new", from: "203.0.113.6") == nil)
        let event = logs.lines.first { $0.contains("login_lockout") }
        #expect(event != nil)
        #expect(event?.contains("203.0.113.5") == false)  // keys are hashed, even in logs
        await app.keel.database.shutdown()
    }

    @Test func theGateLetsWaitersInInArrivalOrderAndDropsCancelledOnes() async throws {
        final class Order: Sendable {
            let names = Mutex<[String]>([])
        }
        let gate = FairGate()
        let order = Order()
        try await gate.enter("pair", limit: 1)
        func waiter(_ name: String) -> Task<Void, any Error> {
            Task { [gate, order] in
                try await gate.enter("pair", limit: 1)
                order.names.withLock { $0.append(name) }
                gate.leave("pair")
            }
        }
        let first = waiter("first")
        try await Task.sleep(for: .milliseconds(50))
        let second = waiter("second")
        try await Task.sleep(for: .milliseconds(50))
        let cancelled = waiter("cancelled")
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(order.names.withLock { $0 }.isEmpty)  // nobody got in while the place was held
        gate.leave("pair")
        try await first.value
        try await second.value
        #expect(order.names.withLock { $0 } == ["first", "second"])
        try await gate.enter("pair", limit: 1)  // every place was given back
        gate.leave("pair")
    }

    @Test func aGateWaiterGivesUpAtItsDeadlineHoldingNothing() async throws {
        let gate = FairGate()
        try await gate.enter("pair", limit: 1)
        await #expect(throws: FairGate.TimedOut.self) {
            try await gate.enter("pair", limit: 1, until: .now + .milliseconds(50))
        }
        gate.leave("pair")
        // The timed-out waiter took no place: the next one gets in at once.
        try await gate.enter("pair", limit: 1, until: .now + .milliseconds(50))
        gate.leave("pair")
    }

    @Test(arguments: TestDatabase.available)
    func aReservationLeftByADeadProcessStopsCountingAfterTwoMinutes(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxFailures": "2"], clock: clock, url: url)
            let throttle = app.keel.loginThrottle
            // Two checks a killed process never settled.
            for id in ["dead-1", "dead-2"] {
                try await app.keel.database.sql.raw("""
                    INSERT INTO keel_login_checks (check_id, scope, key_hash, started_at)
                    VALUES (\(bind: id), 'pair', \(bind: LoginThrottle.hash("ann|198.51.100.7")), \(bind: clock.now.timeIntervalSince1970))
                    """).run()
            }
            clock.advance(by: .seconds(121))
            #expect(try await attempt(throttle, "ann", valid: true) == nil)
            let left = try await app.keel.database.sql.raw("SELECT check_id FROM keel_login_checks").all()
            #expect(left.isEmpty)  // swept, and this check's own reservation released
            await app.keel.database.shutdown()
        }
    }

    @Test func ipv6ClientsAreKeyedByTheirSlash64() {
        #expect(LoginThrottle.clientKey("2001:db8:1:2:aaaa::1") == LoginThrottle.clientKey("2001:db8:1:2:bbbb::9"))
        #expect(LoginThrottle.clientKey("2001:db8:1:2::1") != LoginThrottle.clientKey("2001:db8:1:3::1"))
        #expect(LoginThrottle.clientKey("198.51.100.7") == "198.51.100.7")
    }
}
