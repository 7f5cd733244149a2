public import Crypto
public import Foundation
import KeelCore

/// The application's signing keys: `signing.key` signs, `signing.fallbackKeys` still verify, so a key can be rotated
/// without logging anyone out (Django's `SECRET_KEY` + `SECRET_KEY_FALLBACKS`).
///
/// Every use derives its own key from a salt naming the purpose, so a signature made for one purpose (a session
/// cookie) is never accepted for another (a password-reset link).
/// ```swift
/// let signer = keyring.signer(salt: "keel.sessions")
/// let cookie = signer.sign(sessionID)
/// let id = try signer.unsign(cookie)            // throws SigningError
/// ```
public struct Keyring: Sendable, CustomStringConvertible, CustomReflectable {
    public var description: String { "Keyring(current: \(current.id), fallbacks: \(fallbacks.map(\.id)))" }
    public var customMirror: Mirror { Mirror(self, children: ["current": current.id, "fallbacks": fallbacks.map(\.id)]) }

    /// One configured key.
    public struct Key: Sendable, CustomStringConvertible, CustomReflectable {
        public var description: String { "Key(\(id))" }
        public var customMirror: Mirror { Mirror(self, children: ["id": id]) }

        /// A short, stable, non-secret id: the first 8 hex digits of SHA-256("keel.key-id" + key).
        public let id: String
        let material: SymmetricKey

        init(_ secret: String) {
            let bytes = Data(secret.utf8)
            self.material = SymmetricKey(data: bytes)
            let digest = SHA256.hash(data: Data("keel.key-id".utf8) + bytes)
            self.id = Hex.encode(digest.prefix(4))
        }

        /// The key for one purpose: HMAC-SHA256 keyed by this key over the salt.
        public func derived(salt: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data("keel.signing.\(salt)".utf8), using: material)))
        }
    }

    /// The key that signs.
    public let current: Key
    /// Older keys that still verify, newest first.
    public let fallbacks: [Key]

    public init(key: String, fallbackKeys: [String] = []) {
        self.current = Key(key)
        self.fallbacks = fallbackKeys.map(Key.init)
    }

    /// Every key that verifies: the current one first.
    public var verifying: [Key] { [current] + fallbacks }

    /// The key with this id, if it is configured.
    public func key(id: String) -> Key? {
        verifying.first { $0.id == id }
    }

    /// A signer for one purpose.
    public func signer(salt: String) -> Signer {
        Signer(keyring: self, salt: salt)
    }

    /// A new random key: 48 bytes from the system's secure generator, base64url without padding (64 characters).
    public static func generateKey() -> String {
        Base64URL.encode(SecureRandom.bytes(48))
    }
}

/// Signs values for one purpose and verifies them in constant time against every configured key.
///
/// Formats (all URL- and cookie-safe): `value:signature`, or `value:timestamp:signature` with a timestamp, where
/// the signature is base64url(HMAC-SHA256) and the timestamp base62 seconds since 1970, as in Django.
public struct Signer: Sendable {
    let keyring: Keyring
    let salt: String

    /// Signs `value` with the current key.
    public func sign(_ value: String) -> String {
        "\(value):\(signature(of: value, key: keyring.current))"
    }

    /// Timestamped values use their own derived key, so a plain signature can never pass as a timestamped one.
    var timestamped: Signer { Signer(keyring: keyring, salt: salt + ".timestamped") }

    /// Signs `value` with the time it was signed, for `unsign(_:maxAge:now:)`.
    public func sign(_ value: String, timestamp: Date) -> String {
        timestamped.sign("\(value):\(Base62.encode(UInt64(max(0, timestamp.timeIntervalSince1970))))")
    }

    /// Returns the value if any configured key signed it.
    public func unsign(_ signed: String) throws(SigningError) -> String {
        guard let separator = signed.lastIndex(of: ":") else { throw .malformed }
        let value = String(signed[..<separator])
        let given = Array(signed[signed.index(after: separator)...].utf8)
        var matched = false
        // Check every key, without stopping early, so timing does not say which key matched.
        for key in keyring.verifying {
            let expected = Array(signature(of: value, key: key).utf8)
            if constantTimeEquals(expected, given) { matched = true }
        }
        guard matched else { throw .badSignature }
        return value
    }

    /// Returns the value if any configured key signed it with a timestamp no older than `maxAge` before `now`.
    /// A timestamp more than a minute in the future (clock skew allowance) is refused as malformed.
    public func unsign(_ signed: String, maxAge: Duration, now: Date) throws(SigningError) -> String {
        let stamped = try timestamped.unsign(signed)
        guard let separator = stamped.lastIndex(of: ":"),
              let seconds = Base62.decode(String(stamped[stamped.index(after: separator)...])) else { throw .malformed }
        let age = now.timeIntervalSince1970 - Double(seconds)
        let limit = maxAge.inSeconds
        guard age >= -60 else { throw .malformed }
        guard age <= limit else { throw .expired }
        return String(stamped[..<separator])
    }

    func signature(of value: String, key: Keyring.Key) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: key.derived(salt: salt))
        return Base64URL.encode(Array(code))
    }
}

/// Base62 integers, as Django's signing timestamps.
enum Base62 {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static func encode(_ value: UInt64) -> String {
        guard value > 0 else { return "0" }
        var value = value
        var characters: [Character] = []
        while value > 0 {
            characters.append(alphabet[Int(value % 62)])
            value /= 62
        }
        return String(characters.reversed())
    }

    static func decode(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.count <= 11 else { return nil }
        var value: UInt64 = 0
        for character in text {
            guard let digit = alphabet.firstIndex(of: character) else { return nil }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 62)
            let (added, overflow2) = multiplied.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            value = added
        }
        return value
    }
}
