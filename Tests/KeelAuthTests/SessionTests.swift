import Foundation
import HTTPTypes
import SQLKit
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct SessionCookieTests {
    @Test func anonymousRequestsThatDoNotWriteGetNoSession() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/whoami", method: .get) { response in
                #expect(String(buffer: response.body) == "- -")
                #expect(response.sessionCookieLine == nil)
            }
        }
    }

    @Test func theCookieIsHttpOnlyLaxAndSecureWhenAsked() async throws {
        let app = try await KeelTestApplication.sessions(values: ["security.session.cookieSecure": "true"])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/form", method: .get) { response in
                let line = try #require(response.sessionCookieLine)
                #expect(line.contains("HttpOnly"))
                #expect(line.contains("SameSite=Lax"))
                #expect(line.contains("Secure"))
                #expect(line.contains("Path=/"))
                #expect(line.contains("Max-Age=1209600"))
                #expect(response.sessionKey?.count == 43)
            }
        }
    }

    @Test func loginGivesANewKeyAndTheOldOneStopsWorking() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            let (before, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            let after = try await client.execute(uri: "/login", method: .post, headers: HTTPFields.sessionCookie(before) + [HTTPField.Name.xCSRFToken: token]) { response in
                #expect(response.status == .ok)
                return try #require(response.sessionKey)
            }
            #expect(after != before)
            #expect(try await app.keel.sessions.load(key: before) == nil)
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(after)) { #expect(String(buffer: $0.body) == "u1 -") }
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(before)) { response in
                #expect(String(buffer: response.body) == "- -")
                #expect(response.sessionKey == "")  // the stale cookie is cleared
            }
            // The CSRF token rotated with the key: the one from before login no longer verifies.
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(after) + [HTTPField.Name.xCSRFToken: token]) { response in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func logoutEndsTheSession() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            try await client.execute(uri: "/logout", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]) { response in
                #expect(response.sessionCookieLine?.contains("Max-Age=0") == true)
            }
            #expect(try await app.keel.sessions.load(key: key) == nil)
        }
    }

    @Test func idleSessionsExpireAndUseSlidesTheWindow() async throws {
        let clock = ManualClock()
        let app = try await KeelTestApplication.sessions(values: ["security.session.idleTimeout": "10m"], clock: clock)
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token],
                                     body: ByteBuffer(string: "colour=blue")) { #expect($0.status == .ok) }
            for _ in 0..<3 {
                clock.advance(by: .seconds(9 * 60))
                try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect(String(buffer: $0.body) == "- blue") }
            }
            clock.advance(by: .seconds(11 * 60))
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { response in
                #expect(String(buffer: response.body) == "- -")
                #expect(response.sessionCookieLine?.contains("Max-Age=0") == true)
            }
        }
    }

    /// With a timeout shorter than two minutes the write-back interval follows it: with a fixed minute, a user active
    /// every 36 s of a 60 s timeout was signed out at 72 s (the write at 36 s skipped, the one at 72 s too late).
    @Test func aShortIdleTimeoutSlidesWithEveryRequestWithinHalfOfIt() async throws {
        let clock = ManualClock()
        let app = try await KeelTestApplication.sessions(values: ["security.session.idleTimeout": "60s"], clock: clock)
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token],
                                     body: ByteBuffer(string: "colour=blue")) { #expect($0.status == .ok) }
            for step in 1...6 {
                clock.advance(by: .seconds(36))
                try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) {
                    #expect(String(buffer: $0.body) == "- blue", "still signed in \(step * 36) s later")
                }
            }
            clock.advance(by: .seconds(61))
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect(String(buffer: $0.body) == "- -") }
        }
    }

    @Test func aTimeoutOfSecondsIsAllowedForTests() async throws {
        let clock = ManualClock()
        let app = try await KeelTestApplication.sessions(values: ["security.session.idleTimeout": "2s"], clock: clock)
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token],
                                     body: ByteBuffer(string: "colour=blue")) { #expect($0.status == .ok) }
            clock.advance(by: .seconds(1))
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect(String(buffer: $0.body) == "- blue") }
            clock.advance(by: .seconds(3))
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect(String(buffer: $0.body) == "- -") }
        }
    }

    @Test func sessionsEndAtTheirAbsoluteTimeoutHoweverActive() async throws {
        let clock = ManualClock()
        let app = try await KeelTestApplication.sessions(
            values: ["security.session.idleTimeout": "10m", "security.session.absoluteTimeout": "30m"], clock: clock)
        try await app.application().test(.router) { client in
            let key = try await client.execute(uri: "/form", method: .get) { $0.sessionKey! }
            for _ in 0..<3 {
                clock.advance(by: .seconds(9 * 60))
                try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect($0.sessionKey == nil) }
            }
            clock.advance(by: .seconds(4 * 60))  // 31 minutes after creation
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(key)) { #expect($0.sessionKey == "") }
        }
    }

    @Test func endingAUsersSessionsLogsThemOutEverywhere() async throws {
        let clock = ManualClock()
        let app = try await KeelTestApplication.sessions(clock: clock)
        // A session ended (password change) after a request loaded it is not re-inserted by that request's touch.
        let session = SessionRecord(key: String(repeating: "k", count: 43), userID: "u9", data: [:], csrfSecret: "s",
                                    createdAt: clock.now, lastSeenAt: clock.now)
        try await app.keel.sessions.insert(session)
        try await app.keel.endSessions(of: "u9")
        clock.advance(by: .seconds(120))
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(session.key)) { response in
                #expect(String(buffer: response.body) == "- -")
            }
        }
        #expect(try await app.keel.sessions.load(key: session.key) == nil)
    }

    @Test func aRequestInFlightCannotBringBackASessionEndedMeanwhile() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            let (userKey, userToken) = try await client.execute(uri: "/login-and-form", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]) {
                ($0.sessionKey!, String(buffer: $0.body))
            }
            try await client.execute(uri: "/end-everywhere-then-write", method: .post, headers: HTTPFields.sessionCookie(userKey) + [HTTPField.Name.xCSRFToken: userToken]) {
                response in
                #expect(response.status == .ok)
                #expect(response.sessionCookieLine?.contains("Max-Age=0") == true)
            }
            #expect(try await app.keel.sessions.load(key: userKey) == nil)
            try await client.execute(uri: "/whoami", method: .get, headers: HTTPFields.sessionCookie(userKey)) { #expect(String(buffer: $0.body) == "- -") }
        }
    }

    @Test func aLogoutBeforeAnErrorStillSticks() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            try await client.execute(uri: "/logout-then-fail", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]) { response in
                #expect(response.status == .forbidden)
                #expect(response.sessionCookieLine?.contains("Max-Age=0") == true)
            }
            #expect(try await app.keel.sessions.load(key: key) == nil)
        }
    }

    /// A server error commits nothing, as Django saves below 500: what the failed request wrote is not kept.
    @Test func aServerErrorCommitsNothing() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            let headers: HTTPFields = HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]
            try await client.execute(uri: "/colour", method: .post, headers: headers) { #expect($0.status == .ok) }
            try await client.execute(uri: "/write-then-crash", method: .post, headers: headers) { response in
                #expect(response.status == .internalServerError)
                #expect(response.sessionCookieLine == nil)
            }
            try await client.execute(uri: "/whoami", method: .get, headers: .sessionCookie(key)) { #expect(String(buffer: $0.body) == "- red") }
            #expect(try await app.keel.sessions.load(key: key)?.data["colour"] == "red")
        }
    }

    @Test func aFormRenderedAtLoginAlreadyUsesTheNewSecret() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            let (newKey, newToken) = try await client.execute(uri: "/login-and-form", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]) {
                ($0.sessionKey!, String(buffer: $0.body))
            }
            try await client.execute(uri: "/colour", method: .post, headers: HTTPFields.sessionCookie(newKey) + [HTTPField.Name.xCSRFToken: newToken]) { #expect($0.status == .ok) }
        }
    }

    @Test func malformedCookiesAreIgnoredSafely() async throws {
        let app = try await KeelTestApplication.sessions()
        try await app.application().test(.router) { client in
            for value in ["", "short", String(repeating: "a", count: 5000), "%00%ff", "' OR 1=1 --"] {
                try await client.execute(uri: "/whoami", method: .get, headers: [.cookie: "keel_session=\(value)"]) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "- -")
                }
            }
        }
    }
}

@Suite struct SessionStoreConformanceTests {
    static let clock = Date(timeIntervalSince1970: 1_800_000_000)

    func record(_ user: String?, created: Date = clock, seen: Date = clock) -> SessionRecord {
        SessionRecord(key: UUID().uuidString + UUID().uuidString.prefix(7), userID: user, data: ["k": "v"], csrfSecret: "s",
                      createdAt: created, lastSeenAt: seen)
    }

    func conformance(_ store: any SessionStore) async throws {
        let a = record("alice")
        let b = record("alice")
        let c = record("bob")
        for session in [a, b, c] { try await store.insert(session) }
        #expect(try await store.load(key: a.key) == a)
        var changed = a
        changed.data["k"] = "w"
        #expect(try await store.update(changed))
        #expect(try await store.load(key: a.key)?.data["k"] == "w")
        #expect(try await store.touch(key: a.key, lastSeenAt: Self.clock.addingTimeInterval(5)))
        #expect(try await store.load(key: a.key)?.lastSeenAt == Self.clock.addingTimeInterval(5))
        try await store.deleteAll(userID: "alice", except: a.key)
        #expect(try await store.load(key: a.key) != nil)
        #expect(try await store.load(key: b.key) == nil)
        #expect(try await store.load(key: c.key) != nil)
        try await store.delete(key: c.key)
        #expect(try await store.load(key: c.key) == nil)
        // An ended session is never written back by a late update or touch.
        #expect(try await !store.update(c))
        #expect(try await !store.touch(key: c.key, lastSeenAt: Self.clock))
        #expect(try await store.load(key: c.key) == nil)
        let old = record(nil, created: Self.clock.addingTimeInterval(-10_000), seen: Self.clock.addingTimeInterval(-5000))
        try await store.insert(old)
        #expect(try await store.deleteExpired(idleBefore: Self.clock.addingTimeInterval(-60), createdBefore: Self.clock.addingTimeInterval(-100_000)) == 1)
        #expect(try await store.load(key: old.key) == nil)
        #expect(try await store.load(key: a.key) != nil)

        // Signed-in sessions for a staff page: anonymous and long-idle ones left out, most recent first, never keys.
        let d = record("dora", seen: Self.clock.addingTimeInterval(10))
        let idle = record("erin", seen: Self.clock.addingTimeInterval(-7200))
        let anonymous = record(nil, seen: Self.clock.addingTimeInterval(20))
        for session in [d, idle, anonymous] { try await store.insert(session) }
        let recent = try await store.signedIn(userID: nil, seenAfter: Self.clock.addingTimeInterval(-3600), limit: 10)
        #expect(recent.map(\.userID) == ["dora", "alice"])
        #expect(recent[0] == SessionSummary(userID: "dora", createdAt: Self.clock, lastSeenAt: Self.clock.addingTimeInterval(10)))
        #expect(try await store.signedIn(userID: "alice", seenAfter: Self.clock.addingTimeInterval(-3600), limit: 10).count == 1)
        #expect(try await store.signedIn(userID: nil, seenAfter: Self.clock.addingTimeInterval(-3600), limit: 1).map(\.userID) == ["dora"])
    }

    @Test func memoryStore() async throws {
        try await conformance(MemorySessionStore())
    }

    @Test(arguments: TestDatabase.available)
    func databaseStoreKeepsOnlyHashedKeys(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.sessions(url: url)
            try await conformance(app.keel.sessions)
            let probe = record("carol")
            try await app.keel.sessions.insert(probe)
            struct Row: Decodable { let key_hash: String }
            let rows = try await app.keel.database.sql.select().column("key_hash").from("keel_sessions").all(decoding: Row.self)
            #expect(!rows.isEmpty)
            #expect(rows.allSatisfy { $0.key_hash != probe.key && $0.key_hash.count == 64 })
            await app.keel.database.shutdown()
        }
    }
}
