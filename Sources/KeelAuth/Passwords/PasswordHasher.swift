import Foundation
import Crypto
import CryptoExtras
import KeelCore
import NIOPosix

/// Slow password hashes, Django-compatible: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (PBKDF2-HMAC-SHA256,
/// 1,000,000 iterations by default as in Django 5.2), computed on NIO's thread pool so event loops never block.
///
/// `needsRehash` says when a stored hash uses a weaker work factor than configured: re-hash it on the next
/// successful login.
/// ```swift
/// let stored = try await hasher.hash(password)
/// guard try await hasher.verify(password, against: stored) else { throw KeelError(.unauthorized) }
/// if hasher.needsRehash(stored) { user.passwordHash = try await hasher.hash(password) }
/// ```
public struct PasswordHasher: Sendable {
    public static let algorithm = "pbkdf2_sha256"

    /// PBKDF2 iterations for new hashes (`auth.passwordIterations`).
    public let iterations: Int

    public init(iterations: Int) {
        precondition(iterations > 0, "PBKDF2 needs at least one iteration")
        self.iterations = iterations
    }

    /// Hashes a password with a fresh random salt.
    public func hash(_ password: String) async throws -> String {
        let salt = Self.makeSalt()
        let iterations = self.iterations
        let digest = try await NIOThreadPool.singleton.runIfActive {
            try Self.derive(password, salt: salt, iterations: iterations)
        }
        return "\(Self.algorithm)$\(iterations)$\(salt)$\(digest.base64EncodedString())"
    }

    /// Whether `password` matches `encoded`, compared in constant time. A hash in an unknown format never matches.
    public func verify(_ password: String, against encoded: String) async throws -> Bool {
        guard let parsed = Self.parse(encoded) else { return false }
        let computed = try await NIOThreadPool.singleton.runIfActive {
            try Self.derive(password, salt: parsed.salt, iterations: parsed.iterations)
        }
        return constantTimeEquals(Array(computed), Array(parsed.digest))
    }

    /// Whether `encoded` should be re-hashed: another algorithm, or fewer iterations than configured.
    public func needsRehash(_ encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded) else { return true }
        return parsed.iterations < iterations
    }

    static func parse(_ encoded: String) -> (iterations: Int, salt: String, digest: Data)? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.algorithm, let iterations = Int(parts[1]), (1...100_000_000).contains(iterations),
              !parts[2].isEmpty, let digest = Data(base64Encoded: String(parts[3])), digest.count == 32 else { return nil }
        return (iterations, String(parts[2]), digest)
    }

    static func derive(_ password: String, salt: String, iterations: Int) throws -> Data {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Data(password.utf8), salt: Data(salt.utf8), using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        return key.withUnsafeBytes { Data($0) }
    }

    /// 22 random alphanumeric characters (about 131 bits), as Django's salts.
    static func makeSalt() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<22).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// What a new password must satisfy: a minimum length and not being one of the most common passwords.
///
/// `problems(_:)` returns messages for a 422 on the `password` field: `["is too short (minimum is 8 characters)"]`.
public struct PasswordPolicy: Sendable {
    public let minimumLength: Int
    public let rejectCommon: Bool

    public init(minimumLength: Int = 8, rejectCommon: Bool = true) {
        self.minimumLength = minimumLength
        self.rejectCommon = rejectCommon
    }

    /// Messages for each rule the password breaks; empty when it is acceptable.
    public func problems(_ password: String) -> [String] {
        var problems: [String] = []
        // Characters are Unicode scalars, as Django and JSON Schema count them (`TextRules`).
        let length = TextRules.length(password)
        if length < minimumLength { problems.append("is too short (minimum is \(minimumLength) characters)") }
        if length > 4096 { problems.append("is too long (maximum is 4096 characters)") }
        if rejectCommon && CommonPasswords.contains(password) { problems.append("is too common") }
        return problems
    }
}

/// The most common passwords of public breach lists (lower-cased), which a guessing attack tries first.
enum CommonPasswords {
    static let list: Set<String> = [
        "123456", "123456789", "12345678", "password", "qwerty", "12345", "123123", "111111", "1234567890", "1234567",
        "qwerty123", "000000", "1q2w3e", "aa12345678", "abc123", "password1", "1234", "qwertyuiop", "123321", "password123",
        "1q2w3e4r5t", "iloveyou", "654321", "666666", "987654321", "123", "123456a", "qwe123", "1q2w3e4r", "7777777",
        "1qaz2wsx", "123qwe", "zxcvbnm", "121212", "asdasd", "a123456", "555555", "dragon", "112233", "123123123",
        "monkey", "11111111", "qazwsx", "159753", "asdfghjkl", "222222", "1234qwer", "qwerty1", "123654", "123abc",
        "asdfgh", "777777", "aaaaaa", "myspace1", "88888888", "fuckyou", "123456789a", "999999", "888888", "football",
        "princess", "789456123", "147258369", "1111111", "sunshine", "michael", "computer", "qwer1234", "daniel", "789456",
        "11111", "abcd1234", "q1w2e3r4", "shadow", "159357", "123456q", "1111", "samsung", "killer", "asd123",
        "superman", "master", "12345a", "azerty", "zxcvbn", "qazwsxedc", "131313", "ashley", "target123", "987654",
        "baseball", "qwert", "asdasd123", "qwerty12", "soccer", "charlie", "qweasdzxc", "tinkle", "jessica", "q1w2e3r4t5",
        "asdf", "test1", "1g2w3e4r", "gwerty123", "zag12wsx", "gwerty", "147258", "12341234", "qweqwe", "jordan",
        "pokemon", "q1w2e3r4t5y6", "12345678910", "1111111111", "12344321", "thomas", "love", "12qwaszx", "102030", "welcome",
        "liverpool", "iloveyou1", "michelle", "101010", "1234561", "hello", "andrew", "a123456789", "a12345",
        "fuckyou1", "1qaz2wsx3edc", "hunter", "princess1", "naruto", "justin", "jennifer", "qwerty12345", "letmein", "trustno1",
        "passw0rd", "password12", "admin", "admin123", "changeme", "welcome1", "iloveu", "whatever", "starwars", "secret",
    ]

    static func contains(_ password: String) -> Bool {
        list.contains(password.lowercased())
    }
}
