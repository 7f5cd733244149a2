/// base64url without padding (RFC 4648 §5).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Unpadded base64url (RFC 4648 §5). Hand-written, straight into the string's storage: it runs for every CSP nonce
    /// and signed value, and going through `Data.base64EncodedString()` plus three replacements cost more than the rest
    /// of the header middleware.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let length = (bytes.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: length) { output in
            var written = 0
            var iterator = bytes.makeIterator()
            while let first = iterator.next() {
                let second = iterator.next()
                let third = iterator.next()
                let chunk = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
                output[written] = alphabet[Int(chunk >> 18 & 0x3F)]
                output[written + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                written += 2
                if second != nil { output[written] = alphabet[Int(chunk >> 6 & 0x3F)]; written += 1 }
                if third != nil { output[written] = alphabet[Int(chunk & 0x3F)]; written += 1 }
            }
            return written
        }
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
