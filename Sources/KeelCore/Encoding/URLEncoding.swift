package import NIOCore

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

    package static func write(_ text: String, into buffer: inout ByteBuffer) {
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
    package static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
