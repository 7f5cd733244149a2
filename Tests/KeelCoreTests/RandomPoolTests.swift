import Testing
import KeelCore

@Suite struct RandomPoolTests {
    @Test func encodersMatchTheRFCVectors() {
        // RFC 4648 §10, in the URL alphabet without padding.
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.encode([UInt8]()) == "")
        // The Sequence overload (digests, lazy views) agrees with the Collection one.
        #expect(Hex.encode(AnySequence([0xDE, 0xAD] as [UInt8])) == "dead")
    }

    @Test func tokensHaveTheirLengthAlphabetAndNeverRepeatAcrossRefills() {
        let pool = RandomPool()
        var seen = Set<String>()
        // Many times the buffer, so every refill boundary (including a token that does not fit the rest) is crossed.
        for index in 0..<(RandomPool.capacity / 16) * 10 {
            let id = pool.hex(byteCount: 16)
            #expect(id.utf8.count == 32)
            #expect(id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            let nonce = pool.base64URL(byteCount: index % 3 == 0 ? 16 : 17)
            #expect(nonce.utf8.count == (index % 3 == 0 ? 22 : 23))
            #expect(Base64URL.decode(nonce) != nil)
            #expect(seen.insert(id).inserted && seen.insert(nonce).inserted)
        }
    }

    @Test func bytesLookUniform() {
        // 64 KiB of pool output: every byte value appears, none far more often than the 256 expected (a stuck or
        // zeroed buffer handed out again would fail this).
        let pool = RandomPool()
        var counts = [Int](repeating: 0, count: 256)
        for _ in 0..<256 {
            pool.withBytes(256) { bytes in for byte in bytes { counts[Int(byte)] += 1 } }
        }
        #expect(counts.min()! > 150)
        #expect(counts.max()! < 380)
    }

    @Test func secureRandomReadsAnyCountAcrossItsChunks() {
        #expect(SecureRandom.bytes(0).isEmpty)
        // 1000 bytes take four getentropy calls of at most 256: every chunk must be filled, and two reads differ.
        let first = SecureRandom.bytes(1000)
        #expect(first.count == 1000)
        for chunk in stride(from: 0, to: 1000, by: 256) {
            let part = first[chunk..<min(chunk + 256, 1000)]
            #expect(Set(part).count > part.count / 4, "chunk at \(chunk) looks unfilled")
        }
        #expect(SecureRandom.bytes(1000) != first)
    }
}
