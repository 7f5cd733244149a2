import NIOCore

/// HTML escaping for every `{{value}}` of Keel's templates: the five characters `& < > " '`, done on UTF-8 bytes.
/// Text with nothing to escape (nearly all of a page's values) is copied as it is, in one go.
enum HTMLEscaping {
    /// `text` escaped, as a string (tests, and callers outside a render).
    static func escape(_ text: String) -> String {
        var buffer = ByteBuffer()
        write(text, into: &buffer)
        return String(buffer: buffer)
    }

    /// Writes `text` escaped at the end of `buffer`.
    static func write(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            guard var start = bytes.firstIndex(where: needsEscaping) else {
                buffer.writeBytes(bytes)
                return
            }
            buffer.writeBytes(bytes[..<start])
            var index = start
            while index < bytes.count {
                let replacement: StaticString
                switch bytes[index] {
                case UInt8(ascii: "&"): replacement = "&amp;"
                case UInt8(ascii: "<"): replacement = "&lt;"
                case UInt8(ascii: ">"): replacement = "&gt;"
                case UInt8(ascii: "\""): replacement = "&quot;"
                case UInt8(ascii: "'"): replacement = "&#39;"
                default:
                    index += 1
                    continue
                }
                if index > start { buffer.writeBytes(bytes[start..<index]) }
                buffer.writeStaticString(replacement)
                index += 1
                start = index
            }
            if start < bytes.count { buffer.writeBytes(bytes[start...]) }
        }
    }

    @inline(__always)
    static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\"")
            || byte == UInt8(ascii: "'")
    }
}

/// Percent-encoding for a URL's path segment or query value: every byte of the UTF-8 text but RFC 3986's unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`), so `a&b c/d` is `a%26b%20c%2Fd`. Templates write it `{{urlencode(tag)}}`;
/// Swift code building a link or a `Location` uses `component(_:)`.
public enum URLEncoding {
    /// `text` as a path segment or query value: `"/article/" + URLEncoding.component(slug)`.
    public static func component(_ text: String) -> String {
        var buffer = ByteBuffer()
        write(text, into: &buffer)
        return String(buffer: buffer)
    }

    static func write(_ text: String, into buffer: inout ByteBuffer) {
        for byte in text.utf8 {
            if isUnreserved(byte) {
                buffer.writeInteger(byte)
            } else {
                buffer.writeInteger(UInt8(ascii: "%"))
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0x0F)])
            }
        }
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
