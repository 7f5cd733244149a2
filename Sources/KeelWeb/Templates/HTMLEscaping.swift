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
