import Foundation
import HTTPTypes
import SQLKit
import Keel
import KeelTesting
import Logging
import Testing

@Suite struct LoginThrottleTests {
    let logger = Logger(label: "throttle-test") { _ in SwiftLogNoOpLogHandler() }

    func lockedOut(_ throttle: LoginThrottle, account: String, client: String? = "198.51.100.7") async -> KeelError? {
        do {
            try await throttle.check(account: account, client: client)
            return nil
        } catch let error as KeelError {
            return error
        } catch {
            return nil
        }
    }

    @Test(arguments: TestDatabase.available)
    func accountsLockOutAfterTheLimitAndUnlockAfterTheLockout(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.sessions(
                values: ["security.loginThrottle.maxFailures": "3", "security.loginThrottle.lockout": "5m"], clock: clock, url: url)
            let throttle = app.keel.loginThrottle
            for _ in 0..<2 { try await throttle.recordFailure(account: "Ann@Example.com", client: "198.51.100.7", logger: logger) }
            #expect(await lockedOut(throttle, account: "ann@example.com") == nil)
            try await throttle.recordFailure(account: "ann@example.com", client: "198.51.100.7", logger: logger)
            let error = try #require(await lockedOut(throttle, account: "ann@example.com"))
            #expect(error.status == .tooManyRequests)
            #expect(error.code.rawValue == "auth.locked_out")
            #expect(error.headers[.retryAfter] == "300")
            #expect(await lockedOut(throttle, account: "bob@example.com") == nil)  // other accounts are unaffected
            clock.advance(by: .seconds(301))
            #expect(await lockedOut(throttle, account: "ann@example.com") == nil)
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func successResetsTheAccountAndOldFailuresAgeOut(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.sessions(
                values: ["security.loginThrottle.maxFailures": "3", "security.loginThrottle.window": "10m"], clock: clock, url: url)
            let throttle = app.keel.loginThrottle
            for _ in 0..<2 { try await throttle.recordFailure(account: "ann", client: nil, logger: logger) }
            try await throttle.recordSuccess(account: "ann")
            for _ in 0..<2 { try await throttle.recordFailure(account: "ann", client: nil, logger: logger) }
            #expect(await lockedOut(throttle, account: "ann", client: nil) == nil)
            clock.advance(by: .seconds(11 * 60))
            try await throttle.recordFailure(account: "ann", client: nil, logger: logger)
            #expect(await lockedOut(throttle, account: "ann", client: nil) == nil)  // the window restarted
            await app.keel.database.shutdown()
        }
    }

    @Test func aClientTryingManyAccountsLocksOutAndIsLogged() async throws {
        let logs = CapturedLogs()
        let app = try await KeelTestApplication.sessions(values: ["security.loginThrottle.maxClientFailures": "4"])
        let throttle = app.keel.loginThrottle
        for index in 0..<4 {
            try await throttle.recordFailure(account: "user\(index)", client: "203.0.113.5", logger: logs.logger(label: "t"))
        }
        #expect(await lockedOut(throttle, account: "someone-new", client: "203.0.113.5")?.status == .tooManyRequests)
        #expect(await lockedOut(throttle, account: "someone-new", client: "203.0.113.6") == nil)
        let event = logs.lines.first { $0.contains("login_lockout") }
        #expect(event != nil)
        #expect(event?.contains("203.0.113.5") == false)  // keys are hashed, even in logs
        await app.keel.database.shutdown()
    }
}
