// Which URLs a link or image may have.

import KeelCore

extension Markdown {
    /// Which URLs a link or image may have, decided on the URL a browser would see.
    enum URLPolicy {
        static let linkSchemes: Set<String> = ["http", "https", "mailto"]
        static let imageSchemes: Set<String> = ["http", "https"]

        /// The escaped attribute value for `destination`, or nil when its scheme is not allowed. Entities are decoded
        /// first and control characters (tabs and line ends among them, which browsers drop) removed, and the result is
        /// what is checked and what is written.
        static func attribute(for destination: [UInt8], allowing schemes: Set<String>) -> [UInt8]? {
            var url = decodeEntities(destination).filter { $0 >= Byte.space && $0 != 0x7F }[...]
            while url.first == Byte.space { url.removeFirst() }
            while url.last == Byte.space { url.removeLast() }
            if let scheme = scheme(of: url), !schemes.contains(scheme) { return nil }
            var out: [UInt8] = []
            for byte in url {
                if byte == Byte.space {
                    out.append(contentsOf: "%20".utf8)
                } else {
                    HTMLEscaping.append(byte, to: &out)
                }
            }
            return out
        }

        /// The URL's scheme, lower-cased, as the URL standard reads one: a letter, then letters, digits, `+`, `-` or `.`,
        /// then `:`. Without one the URL is relative.
        static func scheme(of url: ArraySlice<UInt8>) -> String? {
            guard let first = url.first, Byte.isLetter(first) else { return nil }
            guard let colon = url.firstIndex(where: { !(Byte.isAlphanumeric($0) || $0 == Byte.plus || $0 == Byte.dash || $0 == Byte.dot) }),
                url[colon] == Byte.colon
            else { return nil }
            return String(decoding: url[url.startIndex..<colon], as: UTF8.self).lowercased()
        }

        static let namedEntities: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "colon": ":", "tab": "\t", "newline": "\n", "nbsp": "\u{A0}",
            "sol": "/", "lpar": "(", "rpar": ")", "period": ".", "comma": ",", "num": "#", "percnt": "%", "quest": "?", "equals": "=",
            "excl": "!", "commat": "@", "plus": "+", "lowbar": "_", "hyphen": "-",
        ]

        /// Numeric references and the named ones that matter in URLs decoded; any other `&` stays (and is escaped on
        /// output, so the browser does not decode it either).
        static func decodeEntities(_ text: [UInt8]) -> [UInt8] {
            guard text.contains(Byte.ampersand) else { return text }
            var out: [UInt8] = []
            let slice = text[...]
            var index = 0
            while index < text.count {
                let length = text[index] == Byte.ampersand ? InlineRenderer.entityLength(in: slice, at: index) : 0
                guard length > 0 else {
                    out.append(text[index])
                    index += 1
                    continue
                }
                let body = text[(index + 1)..<(index + length - 1)]
                if body.first == UInt8(ascii: "#") {
                    let hex = body.dropFirst().first.map { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") } ?? false
                    let digits = String(decoding: body.dropFirst(hex ? 2 : 1), as: UTF8.self)
                    let value = UInt32(digits, radix: hex ? 16 : 10) ?? 0
                    let scalar = value == 0 ? nil : Unicode.Scalar(value)
                    out.append(contentsOf: String(Character(scalar ?? "\u{FFFD}")).utf8)
                } else if let decoded = namedEntities[String(decoding: body, as: UTF8.self)] {
                    out.append(contentsOf: decoded.utf8)
                } else {
                    out.append(contentsOf: text[index..<(index + length)])
                }
                index += length
            }
            return out
        }
    }
}
