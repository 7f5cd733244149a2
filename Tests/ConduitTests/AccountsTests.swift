import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import SQLKit
import Testing

@Suite struct AccountsTests {
    @Test(arguments: TestDatabase.available)
    func registerLoginAndTheCurrentUser(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders,
                                         body: body(["user": ["username": "jake", "email": "Jake@Example.com", "password": "jakejakejake"]])) { response in
                    #expect(response.status == .created)
                    let user = try #require(json(response.body)["user"] as? [String: Any])
                    #expect(user["username"] as? String == "jake")
                    #expect(user["email"] as? String == "jake@example.com")
                    #expect(user["bio"] is NSNull)
                    #expect(user["image"] is NSNull)
                    #expect((user["token"] as? String)?.split(separator: ".").count == 3)
                    #expect(user["password"] == nil && user["password_hash"] == nil)
                }
                let token = try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                                     body: body(["user": ["email": "JAKE@example.com", "password": "jakejakejake"]])) { response in
                    #expect(response.status == .ok)
                    return try #require((json(response.body)["user"] as? [String: Any])?["token"] as? String)
                }
                try await client.execute(uri: "/api/user", method: .get, headers: tokenHeaders(token)) { response in
                    #expect(response.status == .ok)
                    let user = try #require(json(response.body)["user"] as? [String: Any])
                    #expect(user["username"] as? String == "jake")
                    #expect(user["token"] as? String == token)
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func registrationErrorsAre422sNamingEachField(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                _ = try await register(client, "taken")
                let cases: [([String: Any], [String: String])] = [
                    ([:], ["username": "can't be blank", "email": "can't be blank", "password": "can't be blank"]),
                    (["username": "  ", "email": "x@example.com", "password": "long enough pw"], ["username": "can't be blank"]),
                    (["username": "taken", "email": "taken@example.com", "password": "long enough pw"],
                     ["username": "has already been taken", "email": "has already been taken"]),
                    (["username": "new", "email": "not-an-email", "password": "long enough pw"], ["email": "is invalid"]),
                    (["username": "new", "email": "new@example.com", "password": "short"], ["password": "is too short (minimum is 8 characters)"]),
                    (["username": "new", "email": "new@example.com", "password": "password123"], ["password": "is too common"]),
                    (["username": 5, "email": ["a"], "password": true], ["username": "must be a string", "email": "must be a string", "password": "must be a string"]),
                    (["username": "bad name 🚀", "email": "new@example.com", "password": "long enough pw"], ["username": "is invalid"]),
                    (["username": String(repeating: "a", count: 5000), "email": "new@example.com", "password": "long enough pw"],
                     ["username": "is too long (maximum is 150 characters)"]),
                ]
                for (user, expected) in cases {
                    try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders, body: body(["user": user])) { response in
                        #expect(response.status == .unprocessableContent, "\(user)")
                        let errors = try #require(json(response.body)["errors"] as? [String: [String]])
                        for (field, message) in expected {
                            #expect(errors[field]?.contains(message) == true, "\(field): \(errors)")
                        }
                    }
                }
                for raw in ["{not json", "[]", #"{"usr": {}}"#, #"{"user": "jake"}"#, ""] {
                    try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders, body: ByteBuffer(string: raw)) { response in
                        #expect([.badRequest, .unprocessableContent].contains(response.status), "\(raw)")
                        #expect(json(response.body)["errors"] != nil)
                    }
                }
            }
            await app.keel.database.shutdown()
        }
    }

    /// Two registrations racing for one username or one e-mail: one is created, the other is a 422 naming the field
    /// that is taken (the unique index decides when both pass the checks), never a 500 or the wrong field.
    @Test(arguments: TestDatabase.available)
    func racingRegistrationsNameTheTakenField(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                for (field, users) in [("username", [("same", "a@example.com"), ("same", "b@example.com")]),
                                       ("email", [("first", "same@example.com"), ("second", "same@example.com")])] {
                    let results = try await withThrowingTaskGroup(of: (HTTPResponse.Status, [String: [String]]?).self) { group in
                        for (username, email) in users {
                            group.addTask {
                                try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders,
                                                         body: body(["user": ["username": username, "email": email, "password": "a-long-secret"]])) {
                                    ($0.status, json($0.body)["errors"] as? [String: [String]])
                                }
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(results.map(\.0.code).sorted() == [201, 422], "\(field)")
                    #expect(results.first { $0.0 == .unprocessableContent }?.1 == [field: ["has already been taken"]], "\(field)")
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func wrongCredentialsAre401AndRepeatedFailuresLockOut() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url, values: ["security.loginThrottle.maxFailures": "3"])
            try await app.application().test(.router) { client in
                _ = try await register(client, "ann")
                for (email, password) in [("ann@example.com", "wrong-password"), ("nobody@example.com", "a-long-secret")] {
                    try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                             body: body(["user": ["email": email, "password": password]])) { response in
                        #expect(response.status == .unauthorized)
                        #expect((json(response.body)["errors"] as? [String: [String]])?["email or password"] == ["is invalid"])
                    }
                }
                for expected in [HTTPResponse.Status.unauthorized, .unauthorized, .tooManyRequests] {
                    try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                             body: body(["user": ["email": "ann@example.com", "password": "wrong-again"]])) { response in
                        #expect(response.status == expected)
                    }
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func missingBadAndExpiredTokensAre401() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let clock = ManualClock(Date())
            let app = try await KeelTestApplication.conduit(url: url, values: ["auth.tokenLifetime": "1h"], clock: clock)
            try await app.application().test(.router) { client in
                let token = try await register(client, "tim")
                for headers: HTTPFields in [[:], [.authorization: "Token"], [.authorization: "Token garbage"], [.authorization: "Basic abc"],
                                            [.authorization: "Token \(token.dropLast(2))xx"]] {
                    try await client.execute(uri: "/api/user", method: .get, headers: headers) { response in
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[.wwwAuthenticate] == "Token")
                    }
                }
                clock.advance(by: .seconds(3601))
                try await client.execute(uri: "/api/user", method: .get, headers: tokenHeaders(token)) { #expect($0.status == .unauthorized) }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func updateChangesOnlyWhatAClientMaySet(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let token = try await register(client, "kim")
                _ = try await register(client, "other")
                let update: [String: Any] = ["user": [
                    "bio": "I like to skateboard", "image": "https://example.com/kim.png", "email": "kim2@example.com",
                    "id": 999, "token": "forged", "createdAt": "1999-01-01T00:00:00Z",
                ]]
                try await client.execute(uri: "/api/user", method: .put, headers: tokenHeaders(token), body: body(update)) { response in
                    #expect(response.status == .ok)
                    let user = try #require(json(response.body)["user"] as? [String: Any])
                    #expect(user["bio"] as? String == "I like to skateboard")
                    #expect(user["image"] as? String == "https://example.com/kim.png")
                    #expect(user["email"] as? String == "kim2@example.com")
                    #expect(user["token"] as? String != "forged")
                }
                try await client.execute(uri: "/api/user", method: .put, headers: tokenHeaders(token),
                                         body: body(["user": ["username": "other", "password": "short"]])) { response in
                    #expect(response.status == .unprocessableContent)
                    let errors = try #require(json(response.body)["errors"] as? [String: [String]])
                    #expect(errors["username"] == ["has already been taken"])
                    #expect(errors["password"] == ["is too short (minimum is 8 characters)"])
                }
                try await client.execute(uri: "/api/user", method: .put, headers: tokenHeaders(token),
                                         body: body(["user": ["password": "a brand new secret"]])) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                         body: body(["user": ["email": "kim2@example.com", "password": "a brand new secret"]])) {
                    #expect($0.status == .ok)
                }
                try await client.execute(uri: "/api/user", method: .put, headers: jsonHeaders, body: body(["user": ["bio": "x"]])) {
                    #expect($0.status == .unauthorized)
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func loginUpgradesAWeakerHash() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let weak = try await KeelTestApplication.conduit(url: url, values: ["auth.passwordIterations": "1000"])
            try await weak.application().test(.router) { client in _ = try await register(client, "lee") }
            await weak.keel.database.shutdown()
            let strong = try await KeelTestApplication.conduit(url: url, values: ["auth.passwordIterations": "2000"])
            try await strong.application().test(.router) { client in
                try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders,
                                         body: body(["user": ["email": "lee@example.com", "password": "a-long-secret"]])) { #expect($0.status == .ok) }
            }
            struct Row: Decodable { let password_hash: String }
            let row = try await strong.keel.database.sql.select().column("password_hash").from("users").first(decoding: Row.self)
            #expect(row?.password_hash.hasPrefix("pbkdf2_sha256$2000$") == true)
            await strong.keel.database.shutdown()
        }
    }
}
