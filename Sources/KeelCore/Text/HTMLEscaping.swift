public import NIOCore

/// Keel's one HTML escaper, for element content and quoted attribute values: the five characters `& < > " '` become
/// entities, every other byte is copied. It works on UTF-8 bytes, so a value with nothing to escape (nearly all of
/// a page's values) is copied in one go.
///
/// Templates' `{{value}}`, Markdown's output and Keel's built-in error page all escape through it.
///
/// ```swift
/// HTMLEscaping.escape("<b>Tom & \"Jerry\"</b>")   // "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"
/// ```
public enum HTMLEscaping {
    /// `text` escaped, as a string.
    public static func escape(_ text: String) -> String {
        var buffer = ByteBuffer()
        write(text, into: &buffer)
        return String(buffer: buffer)
    }

    /// Writes `text` escaped at the end of `buffer`.
    public static func write(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            guard var start = bytes.firstIndex(where: needsEscaping) else {
                buffer.writeBytes(bytes)
                return
            }
            buffer.writeBytes(bytes[..<start])
            var index = start
            while index < bytes.count {
                guard let replacement = replacement(for: bytes[index]) else {
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

    /// Appends `bytes` escaped to `out` (for writers that build their output as bytes, such as Markdown's).
    public static func append(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes { append(byte, to: &out) }
    }

    /// Appends one byte, escaped, to `out`.
    @inline(__always)
    public static func append(_ byte: UInt8, to out: inout [UInt8]) {
        guard let replacement = replacement(for: byte) else {
            out.append(byte)
            return
        }
        out.append(contentsOf: UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
    }

    /// Whether `byte` is one of the five the escaper replaces.
    @inline(__always)
    public static func needsEscaping(_ byte: UInt8) -> Bool {
        replacement(for: byte) != nil
    }

    /// The entity for a byte that needs one; the only table of replacements.
    @inline(__always)
    static func replacement(for byte: UInt8) -> StaticString? {
        switch byte {
        case UInt8(ascii: "&"): "&amp;"
        case UInt8(ascii: "<"): "&lt;"
        case UInt8(ascii: ">"): "&gt;"
        case UInt8(ascii: "\""): "&quot;"
        case UInt8(ascii: "'"): "&#39;"
        default: nil
        }
    }
}
