/// JSON text helpers shared by `JSONBody` and Keel's log lines.
public enum JSONText {
    /// Appends `string` as a JSON string literal: quotes, backslashes and control characters escaped (and U+2028 and
    /// U+2029, so the text is also safe inside a `<script>`); everything else, including non-ASCII, copied as UTF-8.
    public static func appendString(_ string: String, to output: inout [UInt8]) {
        // Most strings need no escaping: copy them in one go.
        let copied: Bool? = string.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0xE2 {
                return false
            }
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: bytes)
            output.append(UInt8(ascii: "\""))
            return true
        }
        if copied != true { appendEscaping(string, to: &output) }
    }

    /// The slow path: runs of bytes that need nothing are copied whole, between the escapes.
    static func appendEscaping(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var run = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0xE2 {
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                index += 1
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\")); output.append(byte)
                case UInt8(ascii: "\n"): output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "t"))
                case 0x08: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "f"))
                case 0x00..<0x20:
                    output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                               Hex.digits[Int(byte >> 4)], Hex.digits[Int(byte & 0xF)]])
                default:
                    // 0xE2: U+2028 and U+2029 are E2 80 A8 and E2 80 A9; any other E2 sequence is copied as it is.
                    if index + 1 < bytes.count, bytes[index] == 0x80, bytes[index + 1] == 0xA8 || bytes[index + 1] == 0xA9 {
                        output.append(contentsOf: "\\u202".utf8)
                        output.append(bytes[index + 1] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                        index += 2
                    } else {
                        output.append(byte)
                    }
                }
                run = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends an integer in decimal.
    public static func appendInteger<Integer: BinaryInteger>(_ value: Integer, to output: inout [UInt8]) {
        if value == 0 {
            output.append(UInt8(ascii: "0"))
            return
        }
        if let small = Int64(exactly: value) {
            var magnitude = small.magnitude
            if small < 0 { output.append(UInt8(ascii: "-")) }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buffer in
                while magnitude > 0 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                    count += 1
                }
                for index in stride(from: count - 1, through: 0, by: -1) { output.append(buffer[index]) }
            }
        } else {
            output.append(contentsOf: String(value).utf8)
        }
    }
}
