import Mustache

/// HTML escaping for every `{{value}}` of Keel's templates, the same five characters as swift-mustache's own
/// (`& < > " '`), done on UTF-8 bytes: text with nothing to escape (nearly all of a page's values) is returned as it
/// is, without a copy. swift-mustache's escaping walks grapheme clusters and looks each one up in a dictionary, which
/// cost a page of ten articles a sixth of its throughput (docs/web.md, "What a page costs").
///
/// Templates get it through the `CONTENT_TYPE` pragma that `TemplateSet` puts in front of each one, so a template's
/// own `{{% CONTENT_TYPE: TEXT}}` still wins.
struct KeelHTMLContentType: MustacheContentType {
    static let name = "KEEL_HTML"
    /// Put in front of every template: no output and no newline of its own, so line numbers stay the file's.
    static let pragma = "{{% CONTENT_TYPE: \(name)}}"

    /// Registers the content type with swift-mustache (its registry is process-wide), once per process, before the
    /// first template that names it is parsed.
    static let registered: Void = MustacheContentTypes.register(KeelHTMLContentType(), named: name)

    func escapeText(_ text: String) -> String {
        Self.escape(text)
    }

    static func escape(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes -> String? in
            guard let first = bytes.firstIndex(where: needsEscaping) else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            out.append(contentsOf: bytes[..<first])
            for byte in bytes[first...] {
                switch byte {
                case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
                case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
                case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
                case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
                case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
                default: out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        } ?? text
    }

    @inline(__always)
    static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\"")
            || byte == UInt8(ascii: "'")
    }
}
