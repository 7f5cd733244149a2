/// Lower-case hex, without `String(format:)` (slow on Linux).
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// Straight into the string's storage when the length is known (request ids, on every request).
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { output in
            var written = 0
            for byte in bytes {
                output[written] = digits[Int(byte >> 4)]
                output[written + 1] = digits[Int(byte & 0x0F)]
                written += 2
            }
            return written
        }
    }

    /// Sequences that are not collections (digests): counted once, then as above.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        encode(Array(bytes))
    }
}
