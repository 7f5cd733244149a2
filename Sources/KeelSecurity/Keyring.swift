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

/// base64url without padding (RFC 4648 §5).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Unpadded base64url (RFC 4648 §5). Hand-written: it runs for every CSP nonce and signed value, and going through
    /// `Data.base64EncodedString()` plus three replacements cost more than the rest of the header middleware.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let chunk = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            if second != nil { output.append(alphabet[Int(chunk >> 6 & 0x3F)]) }
            if third != nil { output.append(alphabet[Int(chunk & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes base64url with or without padding; `nil` for any other character or an impossible length.
    public static func decode(_ text: String) -> [UInt8]? {
        var input = Array(text.utf8)
        while input.last == UInt8(ascii: "=") { input.removeLast() }
        guard input.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero, so each value has exactly one encoding.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
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
