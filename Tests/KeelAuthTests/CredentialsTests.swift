import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(iterations: 1000)

    @Test func hashesVerifyAndUseDjangosFormat() async throws {
        let stored = try await hasher.hash("correct horse battery")
        let parts = stored.split(separator: "$")
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2_sha256")
        #expect(parts[1] == "1000")
        #expect(parts[2].count == 22)
        #expect(try await hasher.verify("correct horse battery", against: stored))
        #expect(try await !hasher.verify("correct horse batterY", against: stored))
        #expect(try await hasher.hash("same") != hasher.hash("same"))  // fresh salt each time
    }

    @Test func aDjangoHashVerifies() async throws {
        // python3: base64(hashlib.pbkdf2_hmac("sha256", b"correct horse", b"seasalt123", 1000)), Django's layout.
        let django = "pbkdf2_sha256$1000$seasalt123$KuEnssc6S4MzVSS8Tu48m1RDSrTAn7j3CfgvvjkvfWA="
        #expect(try await hasher.verify("correct horse", against: django))
        #expect(try await !hasher.verify("correct horsE", against: django))
    }

    @Test func weakerOrForeignHashesAskForARehashAndMalformedOnesNeverMatch() async throws {
        let strong = PasswordHasher(iterations: 2000)
        let old = try await hasher.hash("pw-123456")
        #expect(strong.needsRehash(old))
        #expect(!hasher.needsRehash(old))
        #expect(strong.needsRehash("md5$abc$def"))
        for malformed in ["", "pbkdf2_sha256$", "pbkdf2_sha256$abc$salt$hash", "pbkdf2_sha256$0$salt$aGFzaA==", "bcrypt$2b$12$x"] {
            #expect(try await !hasher.verify("x", against: malformed))
        }
    }

    @Test func thePolicyRefusesShortAndCommonPasswords() {
        let policy = PasswordPolicy(minimumLength: 8)
        #expect(policy.problems("short") == ["is too short (minimum is 8 characters)"])
        #expect(policy.problems("Password") == ["is too common"])
        #expect(policy.problems("qwerty") == ["is too short (minimum is 8 characters)", "is too common"])
        #expect(policy.problems("a long and unusual phrase").isEmpty)
        #expect(PasswordPolicy(minimumLength: 8, rejectCommon: false).problems("password").isEmpty)
    }
}

@Suite struct APITokenTests {
    static let old = "old-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    static let new = "new-key-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA"

    @Test func issuedTokensVerifyAndCarryTheKeyID() async throws {
        let keyring = Keyring(key: Self.new)
        let tokens = APITokens(keyring: keyring, lifetime: .seconds(3600))
        let token = try await tokens.issue(subject: "42")
        #expect(try await tokens.verify(token) == "42")
        let header = try #require(Base64URL.decode(String(token.split(separator: ".")[0])))
        let text = String(decoding: header, as: UTF8.self)
        #expect(text.contains(#""kid":"\#(keyring.current.id)""#))
        #expect(text.contains(#""alg":"HS256""#))
    }

    @Test func tamperedExpiredUnsignedAndForeignTokensAreRefused() async throws {
        let clock = ManualClock()
        let tokens = APITokens(keyring: Keyring(key: Self.new), lifetime: .seconds(60)) { clock.now }
        let token = try await tokens.issue(subject: "42")
        let parts = token.split(separator: ".").map(String.init)
        let forgedPayload = Base64URL.encode(Array(#"{"sub":"1","exp":4102444800,"iat":1}"#.utf8))
        let noneHeader = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let foreign = try await APITokens(keyring: Keyring(key: Self.old), lifetime: .seconds(60)).issue(subject: "42")
        for bad in [
            "\(parts[0]).\(forgedPayload).\(parts[2])", "\(noneHeader).\(parts[1]).", "\(noneHeader).\(forgedPayload).", "not-a-jwt", "", foreign,
        ] {
            await #expect(throws: KeelError.self) { try await tokens.verify(bad) }
        }
        clock.advance(by: .seconds(61))
        await #expect(throws: KeelError.self) { try await tokens.verify(token) }
    }

    /// Tokens signed with the right key material but another algorithm or an unknown key id, and oversized tokens.
    @Test func onlyHS256UnderAKnownKeyIDVerifies() async throws {
        let keyring = Keyring(key: Self.new)
        let tokens = APITokens(keyring: keyring, lifetime: .seconds(3600))
        let key = keyring.current.derived(salt: "keel.api-tokens")
        let payload = Base64URL.encode(Array(#"{"sub":"1","exp":4102444800,"iat":1}"#.utf8))
        func signed(_ header: String, sha512: Bool = false) -> String {
            let head = Base64URL.encode(Array(header.utf8))
            let input = Data("\(head).\(payload)".utf8)
            let mac = sha512 ? Array(HMAC<SHA512>.authenticationCode(for: input, using: key)) : Array(HMAC<SHA256>.authenticationCode(for: input, using: key))
            return "\(head).\(payload).\(Base64URL.encode(mac))"
        }
        let id = keyring.current.id
        #expect(try await tokens.verify(signed(#"{"alg":"HS256","kid":"\#(id)","typ":"JWT"}"#)) == "1")  // the control
        for bad in [
            signed(#"{"alg":"HS512","kid":"\#(id)","typ":"JWT"}"#, sha512: true),
            signed(#"{"alg":"HS256","kid":"someone-else","typ":"JWT"}"#),
            signed(#"{"alg":"HS256","typ":"JWT"}"#),
            signed(#"{"alg":"HS256","kid":"\#(id)","typ":"JWT"}"#) + "." + payload,
            String(repeating: "a", count: 10_000),
        ] {
            await #expect(throws: KeelError.self) { try await tokens.verify(bad) }
        }
    }

    @Test func rotationKeepsTokensValidUntilTheKeyIsRemoved() async throws {
        let issued = try await APITokens(keyring: Keyring(key: Self.old), lifetime: .seconds(3600)).issue(subject: "7")
        let rotated = APITokens(keyring: Keyring(key: Self.new, fallbackKeys: [Self.old]), lifetime: .seconds(3600))
        #expect(try await rotated.verify(issued) == "7")
        let removed = APITokens(keyring: Keyring(key: Self.new), lifetime: .seconds(3600))
        await #expect(throws: KeelError.self) { try await removed.verify(issued) }
    }

    @Test func theAuthorizationHeaderIsParsedStrictly() throws {
        #expect(try APITokens.token(fromAuthorization: nil) == nil)
        #expect(try APITokens.token(fromAuthorization: "Token abc.def.ghi") == "abc.def.ghi")
        #expect(try APITokens.token(fromAuthorization: "Bearer abc") == "abc")
        for bad in ["Basic dXNlcjpwdw==", "Token", "Token a b", String(repeating: "T", count: 10)] {
            #expect(throws: KeelError.self) { try APITokens.token(fromAuthorization: bad) }
        }
        #expect(KeelError.invalidToken.status == .unauthorized)
    }

    /// Every 401 on a group that takes tokens names the scheme (RFC 7235), whoever refused the request: the token
    /// module's setting, not a header written into the kernel's error. Other groups' 401s name none.
    @Test(arguments: [nil, "Bearer"])
    func everyTokenGroup401NamesTheScheme(scheme: String?) async throws {
        var values = ["database.url": "sqlite://:memory:"]
        if let scheme { values["auth.tokenScheme"] = scheme }
        let app = try await KeelTestApplication.make(modules: [ChallengeProbe()], values: values)
        try await app.application().test(.router) { client in
            for headers: HTTPFields in [[:], [.authorization: "Token not-a-jwt"], [.authorization: "Basic dXNlcjpwdw=="]] {
                try await client.execute(uri: "/api/mine", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == (scheme ?? "Token"))
                }
            }
            try await client.execute(uri: "/mine", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == nil)
            }
        }
    }

    @Test func aSchemeThatIsNotOneIsASettingsProblem() async {
        await #expect(throws: SettingsError.self) {
            _ = try await KeelTestApplication.resolveSettings(values: ["auth.tokenScheme": "Bearer realm=x"])
        }
    }
}

/// A route on each of the API and web groups that needs a user.
struct ChallengeProbe: KeelModule {
    var name: String { "challenge" }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.api.get("/api/mine") { _, context in try context.identity.requireUserID() }
        routes.web.get("/mine") { _, context in try context.identity.requireUserID() }
    }
}
