import Foundation
import HTTPTypes
import Keel
import KeelTesting
import Logging
import SQLKit
import Testing

@Suite struct LoginThrottleTests {
    let logger = Logger(label: "throttle-test") { _ in SwiftLogNoOpLogHandler() }

    /// Makes an attempt; the 429 it throws when locked out, else nil.
    func attempt(_ throttle: LoginThrottle, _ account: String, from client: String? = "198.51.100.7") async throws -> KeelError? {
        do {
            try await throttle.attempt(account: account, client: client, logger: logger)
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
            let error = try #require(try await attempt(throttle, "ann@example.com"))
            #expect(error.status == .tooManyRequests)
            #expect(error.code.rawValue == "auth.locked_out")
            #expect(error.headers[.retryAfter] == "300")
            #expect(try await attempt(throttle, "ann@example.com")?.status == .tooManyRequests)
            // The same account from elsewhere, and other accounts, are not locked: nobody can lock a user out remotely.
            #expect(try await attempt(throttle, "ann@example.com", from: "203.0.113.1") == nil)
            #expect(try await attempt(throttle, "bob@example.com") == nil)
            clock.advance(by: .seconds(301))
            #expect(try await attempt(throttle, "ann@example.com") == nil)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func successResetsThePairAndOldAttemptsAgeOut(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.sessions(
                values: ["security.loginThrottle.maxFailures": "3", "security.loginThrottle.window": "10m"], clock: clock, url: url)
            let throttle = app.keel.loginThrottle
            for _ in 0..<3 { _ = try await attempt(throttle, "ann") }
            try await throttle.succeeded(account: "ann", client: "198.51.100.7")
            for _ in 0..<3 { #expect(try await attempt(throttle, "ann") == nil) }
            clock.advance(by: .seconds(11 * 60))
            #expect(try await attempt(throttle, "ann") == nil)  // the window restarted
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func parallelGuessesCannotSlipPastTheLimit(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxFailures": "5"], url: url)
            let throttle = app.keel.loginThrottle
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { try await attempt(throttle, "ann") == nil } }
                var count = 0
                for try await passed in group where passed { count += 1 }
                return count
            }
            #expect(allowed == 5)
            await app.keel.database.shutdown()
        }
    }

    @Test func aClientTryingManyAccountsLocksOutAndIsLogged() async throws {
        let logs = CapturedLogs()
        let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxClientFailures": "4"])
        let throttle = app.keel.loginThrottle
        for index in 0..<4 {
            try await throttle.attempt(account: "user\(index)", client: "203.0.113.5", logger: logs.logger(label: "t"))
        }
        await #expect(throws: KeelError.self) {
            try await throttle.attempt(account: "someone-new", client: "203.0.113.5", logger: logs.logger(label: "t"))
        }
        #expect(try await attempt(throttle, "someone-new", from: "203.0.113.6") == nil)
        let event = logs.lines.first { $0.contains("login_lockout") }
        #expect(event != nil)
        #expect(event?.contains("203.0.113.5") == false)  // keys are hashed, even in logs
        await app.keel.database.shutdown()
    }

    @Test func ipv6ClientsAreKeyedByTheirSlash64() {
        #expect(LoginThrottle.clientKey("2001:db8:1:2:aaaa::1") == LoginThrottle.clientKey("2001:db8:1:2:bbbb::9"))
        #expect(LoginThrottle.clientKey("2001:db8:1:2::1") != LoginThrottle.clientKey("2001:db8:1:3::1"))
        #expect(LoginThrottle.clientKey("198.51.100.7") == "198.51.100.7")
    }
}
