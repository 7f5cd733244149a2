/// Checks that a page is HTML a browser builds the way its template reads: the tree the parser makes is the tree the
/// author wrote. Test every page a test fetches with it:
///
/// ```swift
/// let page = try await client.execute(uri: "/", method: .get)
/// #expect(HTMLChecker.problems(in: String(buffer: page.body)) == [])
/// ```
///
/// It is not a full validator (no content models beyond the common traps, no attribute values); it reports what
/// silently changes a page in a browser:
/// - a block element (`<form>`, `<div>`, a list, a heading…) inside `<p>`: the parser closes the paragraph first, so
///   styles for `p > form` never apply and the closing `</p>` becomes an empty paragraph;
/// - an end tag that closes nothing open, or not the innermost element; an element left open at the end;
/// - `<a>` inside `<a>`, `<form>` inside `<form>`, `<button>` inside `<button>`;
/// - the same `id` twice, the same attribute twice on one element;
/// - no `<!doctype html>` (quirks mode), no `lang` on `<html>`, not exactly one `<title>`.
///
/// Every non-void element must be closed explicitly (HTML allows leaving out some end tags; Keel's templates don't).
public enum HTMLChecker {
    /// One thing wrong, with the line it is on (1-based).
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    static let void: Set<String> = ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
    /// Elements whose content is text up to their end tag.
    static let rawText: Set<String> = ["script", "style", "textarea", "title"]
    /// Elements whose start tag closes an open `<p>`.
    static let closesParagraph: Set<String> = [
        "address", "article", "aside", "blockquote", "details", "dialog", "div", "dl", "fieldset", "figcaption", "figure", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre", "section",
        "table", "ul",
    ]
    /// Elements that may not contain themselves.
    static let notNested: Set<String> = ["a", "form", "button", "label"]

    /// Everything wrong with `html`, in document order; empty for a good page.
    public static func problems(in html: String) -> [Problem] {
        var scanner = Scanner(Array(html.utf8))
        var problems: [Problem] = []
        var open: [(name: String, line: Int)] = []
        var ids: [String: Int] = [:]
        var titles = 0
        var sawDoctype = false
        var sawElement = false

        while let token = scanner.next() {
            switch token {
            case .doctype(let text, let line):
                if sawElement || sawDoctype { problems.append(Problem(line: line, message: "<!doctype> after the document started")) }
                if text.lowercased() != "html" { problems.append(Problem(line: line, message: "<!doctype \(text)> is not <!doctype html>")) }
                sawDoctype = true
            case .start(let name, let attributes, let line):
                if !sawElement && !sawDoctype { problems.append(Problem(line: line, message: "no <!doctype html> before <\(name)>: the page renders in quirks mode")) }
                sawElement = true
                var seen: Set<String> = []
                for (key, value) in attributes {
                    if !seen.insert(key).inserted { problems.append(Problem(line: line, message: "<\(name)> has the attribute \(key) twice")) }
                    if key == "id", let value {
                        if let first = ids[value] {
                            problems.append(Problem(line: line, message: "id \"\(value)\" is used twice (first on line \(first))"))
                        } else {
                            ids[value] = line
                        }
                    }
                }
                if name == "html", !attributes.contains(where: { $0.0 == "lang" }) {
                    problems.append(Problem(line: line, message: "<html> has no lang attribute"))
                }
                if name == "title" { titles += 1 }
                if closesParagraph.contains(name), let paragraph = open.last(where: { $0.name == "p" }) {
                    problems.append(Problem(
                        line: line, message: "<\(name)> inside <p> (line \(paragraph.line)): the browser closes the paragraph before it"))
                }
                if notNested.contains(name), let outer = open.last(where: { $0.name == name }) {
                    problems.append(Problem(line: line, message: "<\(name)> inside <\(name)> (line \(outer.line))"))
                }
                if !void.contains(name) {
                    open.append((name, line))
                    if rawText.contains(name) {
                        if !scanner.skipRawText(until: name) {
                            problems.append(Problem(line: line, message: "<\(name)> is never closed"))
                            open.removeLast()
                        }
                    }
                }
            case .selfClosing(let name, let line):
                if !void.contains(name) {
                    problems.append(Problem(line: line, message: "<\(name) /> is not a void element: the browser ignores the slash and leaves it open"))
                    open.append((name, line))
                }
            case .end(let name, let line):
                if void.contains(name) {
                    problems.append(Problem(line: line, message: "</\(name)> closes a void element"))
                } else if open.last?.name == name {
                    open.removeLast()
                } else if let index = open.lastIndex(where: { $0.name == name }) {
                    let unclosed = open[(index + 1)...].map { "<\($0.name)> (line \($0.line))" }.joined(separator: ", ")
                    problems.append(Problem(line: line, message: "</\(name)> closes \(unclosed) too"))
                    open.removeSubrange(index...)
                } else {
                    problems.append(Problem(line: line, message: "</\(name)> closes nothing that is open"))
                }
            case .malformed(let line):
                problems.append(Problem(line: line, message: "a tag that does not end"))
            }
        }
        for element in open.reversed() {
            problems.append(Problem(line: element.line, message: "<\(element.name)> is never closed"))
        }
        if sawElement, titles != 1 { problems.append(Problem(line: 1, message: "the page has \(titles) <title> elements, not one")) }
        return problems
    }

    enum Token {
        case doctype(String, line: Int)
        case start(String, attributes: [(String, String?)], line: Int)
        case selfClosing(String, line: Int)
        case end(String, line: Int)
        case malformed(line: Int)
    }

    /// Tags, comments and the doctype of a page, skipping text.
    struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        mutating func advance(to end: Int) {
            while index < end {
                if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                index += 1
            }
        }

        func find(_ needle: String, from start: Int) -> Int? {
            let needle = Array(needle.utf8)
            guard needle.count <= bytes.count else { return nil }
            var position = start
            while position + needle.count <= bytes.count {
                if bytes[position..<(position + needle.count)].elementsEqual(needle) { return position }
                position += 1
            }
            return nil
        }

        static func isLetter(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-")
        }

        /// Moves past the text of a raw-text element and its end tag; false when there is no end tag.
        mutating func skipRawText(until name: String) -> Bool {
            var position = index
            while let found = find("</", from: position) {
                let nameEnd = found + 2 + name.utf8.count
                if nameEnd <= bytes.count, String(decoding: bytes[(found + 2)..<nameEnd], as: UTF8.self).lowercased() == name,
                    nameEnd == bytes.count || !Self.isNameByte(bytes[nameEnd]) {
                    // Leave the end tag to be read as a token.
                    advance(to: found)
                    return true
                }
                position = found + 2
            }
            return false
        }

        mutating func next() -> Token? {
            while index < bytes.count {
                guard bytes[index] == UInt8(ascii: "<") else {
                    advance(to: index + 1)
                    continue
                }
                let start = index
                let tagLine = line
                // `<` before a space, a digit or the end is text (`a < b`), as in a browser.
                guard start + 1 < bytes.count, bytes[start + 1] == UInt8(ascii: "!") || bytes[start + 1] == UInt8(ascii: "/")
                    || Self.isLetter(bytes[start + 1]) else {
                    advance(to: start + 1)
                    continue
                }
                if find("<!--", from: start) == start {
                    guard let end = find("-->", from: start + 4) else {
                        advance(to: bytes.count)
                        return .malformed(line: tagLine)
                    }
                    advance(to: end + 3)
                    continue
                }
                guard let close = bytes[start...].firstIndex(of: UInt8(ascii: ">")) else {
                    advance(to: bytes.count)
                    return .malformed(line: tagLine)
                }
                let inside = String(decoding: bytes[(start + 1)..<close], as: UTF8.self)
                advance(to: close + 1)
                if inside.hasPrefix("!") {
                    let words = inside.dropFirst().split(separator: " ", maxSplits: 1)
                    guard words.first?.lowercased() == "doctype" else { continue }
                    return .doctype(words.count > 1 ? String(words[1]).trimmingSpaces : "", line: tagLine)
                }
                if inside.hasPrefix("/") {
                    return .end(inside.dropFirst().trimmingSpaces.lowercased(), line: tagLine)
                }
                let selfClosing = inside.hasSuffix("/")
                let body = selfClosing ? String(inside.dropLast()) : inside
                let name = String(body.prefix { !$0.isWhitespace }).lowercased()
                if selfClosing { return .selfClosing(name, line: tagLine) }
                return .start(name, attributes: Self.attributes(String(body.dropFirst(name.count))), line: tagLine)
            }
            return nil
        }

        /// `name`, `name=value`, `name="value"`, `name='value'`, in order.
        static func attributes(_ text: String) -> [(String, String?)] {
            var result: [(String, String?)] = []
            var rest = Substring(text)
            while true {
                rest = rest.drop { $0.isWhitespace }
                guard !rest.isEmpty else { break }
                let name = rest.prefix { !$0.isWhitespace && $0 != "=" }
                rest = rest.dropFirst(name.count).drop { $0.isWhitespace }
                guard !name.isEmpty else {
                    rest = rest.dropFirst()
                    continue
                }
                guard rest.first == "=" else {
                    result.append((name.lowercased(), nil))
                    continue
                }
                rest = rest.dropFirst().drop { $0.isWhitespace }
                if let quote = rest.first, quote == "\"" || quote == "'" {
                    let value = rest.dropFirst().prefix { $0 != quote }
                    result.append((name.lowercased(), String(value)))
                    rest = rest.dropFirst(value.count + 2)
                } else {
                    let value = rest.prefix { !$0.isWhitespace }
                    result.append((name.lowercased(), String(value)))
                    rest = rest.dropFirst(value.count)
                }
            }
            return result
        }
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
