import Foundation
import Keel
import Testing

@Suite struct KeyringTests {
    static let old = "old-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    static let new = "new-key-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA"

    @Test func signsAndVerifies() throws {
        let signer = Keyring(key: Self.new).signer(salt: "test")
        let signed = signer.sign("user:42")
        #expect(signed.hasPrefix("user:42:"))
        #expect(try signer.unsign(signed) == "user:42")
    }

    @Test func tamperingIsDetected() {
        let signer = Keyring(key: Self.new).signer(salt: "test")
        let signed = signer.sign("user:42")
        #expect(throws: SigningError.badSignature) { try signer.unsign(signed.replacingOccurrences(of: "user:42", with: "user:43")) }
        let last = signed.last == "A" ? "B" : "A"
        #expect(throws: SigningError.badSignature) { try signer.unsign(String(signed.dropLast()) + last) }
        #expect(throws: SigningError.malformed) { try signer.unsign("no-separator") }
    }

    @Test func aSignatureForOnePurposeIsRejectedForAnother() {
        let keyring = Keyring(key: Self.new)
        let cookie = keyring.signer(salt: "keel.sessions").sign("abc")
        #expect(throws: SigningError.badSignature) { try keyring.signer(salt: "keel.password-reset").unsign(cookie) }
    }

    @Test func rotationKeepsOldSignaturesValidUntilTheKeyIsRemoved() throws {
        let signedWithOld = Keyring(key: Self.old).signer(salt: "s").sign("v")
        let rotated = Keyring(key: Self.new, fallbackKeys: [Self.old])
        #expect(try rotated.signer(salt: "s").unsign(signedWithOld) == "v")
        #expect(rotated.signer(salt: "s").sign("v") != signedWithOld)
        let removed = Keyring(key: Self.new)
        #expect(throws: SigningError.badSignature) { try removed.signer(salt: "s").unsign(signedWithOld) }
    }

    @Test func timestampsExpire() throws {
        let signer = Keyring(key: Self.new).signer(salt: "t")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let signed = signer.sign("token", timestamp: start)
        #expect(try signer.unsign(signed, maxAge: .seconds(60), now: start.addingTimeInterval(59)) == "token")
        #expect(throws: SigningError.expired) { try signer.unsign(signed, maxAge: .seconds(60), now: start.addingTimeInterval(61)) }
        // A plain signature never passes as a timestamped one (its own derived key), even shaped like one.
        #expect(throws: SigningError.badSignature) { try signer.unsign(signer.sign("token:zzzzzz"), maxAge: .seconds(60), now: start) }
        // A timestamp from the future (beyond a minute of clock skew) is refused.
        let future = signer.sign("token", timestamp: start.addingTimeInterval(3600))
        #expect(throws: SigningError.malformed) { try signer.unsign(future, maxAge: .seconds(60), now: start) }
    }

    @Test func keyIDsAreStableAndNothingPrintsAKey() {
        let keyring = Keyring(key: Self.new, fallbackKeys: [Self.old])
        #expect(keyring.current.id == Keyring(key: Self.new).current.id)
        // Pinned: key ids are inside issued tokens and signed values, so their derivation must never drift.
        #expect(keyring.current.id.count == 8)
        #expect(keyring.current.id == "ec226a11")
        #expect(keyring.key(id: keyring.fallbacks[0].id) != nil)
        var dumped = ""
        dump(keyring, to: &dumped)
        for text in [dumped, "\(keyring)", String(reflecting: keyring)] {
            #expect(!text.contains(Self.new) && !text.contains(Self.old))
        }
    }

    @Test func generatedKeysAreLongRandomAndStrong() {
        let first = Keyring.generateKey()
        let second = Keyring.generateKey()
        #expect(first.count == 64)
        #expect(first != second)
        #expect(!SecurityChecks.isWeakKey(first))
        #expect(Base64URL.decode(first)?.count == 48)
    }
}

@Suite struct IPAddressRangeTests {
    @Test func matchesAddressesAndRanges() throws {
        #expect(try #require(IPAddressRange("127.0.0.1")).contains("127.0.0.1"))
        #expect(!(try #require(IPAddressRange("127.0.0.1")).contains("127.0.0.2")))
        let private10 = try #require(IPAddressRange("10.0.0.0/8"))
        #expect(private10.contains("10.200.3.4"))
        #expect(!private10.contains("11.0.0.1"))
        #expect(private10.contains("::ffff:10.1.2.3"))
        let v6 = try #require(IPAddressRange("fd00::/8"))
        #expect(v6.contains("fd12:3456::1"))
        #expect(!v6.contains("fe80::1"))
        #expect(try #require(IPAddressRange("::1")).contains("[::1]"))
        #expect(!private10.contains("not-an-ip"))
    }

    @Test(arguments: ["", "300.1.1.1", "10.0.0.0/33", "example.com", "::1/129"])
    func rejectsWhatIsNotAnAddress(text: String) {
        #expect(IPAddressRange(text) == nil)
    }
}
