/// Markdown to HTML for text people type into a form (an article's body, a comment), safe to put in a page.
///
/// CommonMark's common part: paragraphs, ATX (`# Title`) and setext headings, `*emphasis*`, `**strong**`,
/// `~~strikethrough~~`, `` `code` ``, fenced and indented code blocks (a fence's language becomes
/// `class="language-…"`), block quotes, bullet and ordered lists (nested, tight or loose), thematic breaks, hard line
/// breaks, inline links and images, `<https://…>` and `<name@example.com>` autolinks, backslash escapes and entities.
/// Not supported: raw HTML (escaped, so it shows as typed), reference-style links, tables.
///
/// Safe for untrusted input, whatever it is:
/// - Every character the writer typed is escaped; the only tags in the output are the ones listed above, with no
///   attributes but `href`, `title`, `rel` (links), `src`, `alt`, `title` (images), `start` (ordered lists) and a code
///   block's language class.
/// - Links keep only `http`, `https`, `mailto` and relative URLs, images only `http`, `https` and relative ones; the
///   scheme is read the way a browser reads it (entities decoded, control characters and tabs dropped) and anything
///   else renders as plain text. Links carry `rel="nofollow ugc"`.
/// - Block quotes and lists nest at most ``maximumNesting`` deep (deeper markers are text), and every stage is linear
///   in the input, so no input makes rendering slow or deep.
///
/// ```swift
/// let html = Markdown.html(from: article.body)   // in the template: {{{bodyHTML}}}
/// ```
public enum Markdown {
    /// How deep block quotes and lists nest; past it, `>` and list markers are text.
    public static let maximumNesting = 16

    /// The HTML for `markdown`: block elements separated by newlines, every one closed.
    public static func html(from markdown: String) -> String {
        let lines = Source.lines(of: markdown)
        var out: [UInt8] = []
        out.reserveCapacity(markdown.utf8.count + markdown.utf8.count / 4 + 16)
        HTMLWriter.blocks(BlockParser.parse(lines, depth: 0).blocks, tight: false, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension Markdown {
    // MARK: - Bytes

    typealias Line = ArraySlice<UInt8>

    enum Byte {
        static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r"), tab = UInt8(ascii: "\t")
        static let space = UInt8(ascii: " "), backslash = UInt8(ascii: "\\"), backtick = UInt8(ascii: "`")
        static let tilde = UInt8(ascii: "~"), star = UInt8(ascii: "*"), underscore = UInt8(ascii: "_")
        static let hash = UInt8(ascii: "#"), greater = UInt8(ascii: ">"), less = UInt8(ascii: "<")
        static let dash = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), equals = UInt8(ascii: "=")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]"), bang = UInt8(ascii: "!")
        static let openParen = UInt8(ascii: "("), closeParen = UInt8(ascii: ")"), ampersand = UInt8(ascii: "&")
        static let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), semicolon = UInt8(ascii: ";")
        static let colon = UInt8(ascii: ":"), at = UInt8(ascii: "@"), dot = UInt8(ascii: "."), digit0 = UInt8(ascii: "0")

        static func isPunctuation(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
            default: return false
            }
        }

        /// Spaces, tabs and line ends; the start and end of the text count as whitespace for emphasis.
        static func isWhitespace(_ byte: UInt8?) -> Bool {
            guard let byte else { return true }
            return byte == space || byte == newline || byte == tab || byte == 0x0B || byte == 0x0C || byte == carriageReturn
        }

        static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
        static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) }
        static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
    }

    enum Source {
        /// The text's lines: `\r\n` and `\r` end lines like `\n`, NUL becomes U+FFFD, and tabs become spaces to the next
        /// multiple of four columns (CommonMark's tab stops), so indentation is counted in bytes from here on.
        static func lines(of text: String) -> [Line] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            var column = 0
            var previous: UInt8 = 0
            for byte in text.utf8 {
                defer { previous = byte }
                switch byte {
                case Byte.carriageReturn:
                    bytes.append(Byte.newline)
                    column = 0
                case Byte.newline:
                    if previous != Byte.carriageReturn { bytes.append(Byte.newline) }
                    column = 0
                case Byte.tab:
                    let width = 4 - column % 4
                    bytes.append(contentsOf: repeatElement(Byte.space, count: width))
                    column += width
                case 0:
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    column += 1
                default:
                    bytes.append(byte)
                    column += 1
                }
            }
            return bytes.split(separator: Byte.newline, omittingEmptySubsequences: false)
        }

        static func indent(_ line: Line) -> Int {
            var count = 0
            for byte in line {
                guard byte == Byte.space else { break }
                count += 1
            }
            return count
        }

        static func isBlank(_ line: Line) -> Bool { line.allSatisfy { $0 == Byte.space } }

        static func withoutIndent(_ line: Line) -> Line { line.dropFirst(indent(line)) }

        static func trimmed(_ line: Line) -> Line {
            var line = line
            while line.first == Byte.space { line.removeFirst() }
            while line.last == Byte.space { line.removeLast() }
            return line
        }
    }

    // MARK: - Blocks

    indirect enum Block {
        case paragraph([UInt8])
        case heading(level: Int, text: [UInt8])
        case code(language: Line?, text: [UInt8])
        case rule
        case quote([Block])
        case list(ordered: Bool, start: Int, loose: Bool, items: [[Block]])
    }

    struct ListMarker {
        let ordered: Bool
        /// The bullet (`-`, `+`, `*`) or the ordered delimiter (`.`, `)`): a different one starts a new list.
        let character: UInt8
        let number: Int
        /// The column the item's content starts at; its continuation lines are indented at least this much.
        let contentColumn: Int
        let isEmpty: Bool
    }

    enum BlockParser {
        struct Parsed {
            var blocks: [Block] = []
            /// A blank line separates two of the blocks (what makes a list item loose).
            var blankBetweenBlocks = false
        }

        static func parse(_ lines: [Line], depth: Int) -> Parsed {
            var parsed = Parsed()
            var blankBefore = false
            func add(_ block: Block) {
                if blankBefore && !parsed.blocks.isEmpty { parsed.blankBetweenBlocks = true }
                blankBefore = false
                parsed.blocks.append(block)
            }
            let nests = depth < Markdown.maximumNesting
            var index = 0
            while index < lines.count {
                let line = lines[index]
                if Source.isBlank(line) {
                    blankBefore = true
                    index += 1
                    continue
                }
                let indent = Source.indent(line)
                if indent >= 4 {
                    add(indentedCode(lines, &index))
                    continue
                }
                let rest = line.dropFirst(indent)
                if let fence = fenceOpening(rest) {
                    add(fencedCode(lines, &index, fence: fence, indent: indent))
                } else if let heading = atxHeading(rest) {
                    add(.heading(level: heading.level, text: Array(heading.text)))
                    index += 1
                } else if isThematicBreak(rest) {
                    add(.rule)
                    index += 1
                } else if nests && rest.first == Byte.greater {
                    add(.quote(parse(quoteLines(lines, &index, depth: depth), depth: depth + 1).blocks))
                } else if nests, let marker = listMarker(line) {
                    add(list(lines, &index, first: marker, depth: depth))
                } else {
                    add(paragraph(lines, &index, depth: depth))
                }
            }
            return parsed
        }

        // A paragraph runs to a blank line or a line that starts another block; `===` or `---` under it makes it a heading.
        static func paragraph(_ lines: [Line], _ index: inout Int, depth: Int) -> Block {
            var text: [UInt8] = Array(Source.withoutIndent(lines[index]))
            index += 1
            while index < lines.count {
                let line = lines[index]
                if Source.isBlank(line) { break }
                let indent = Source.indent(line)
                if indent < 4 {
                    let rest = line.dropFirst(indent)
                    if let level = setextLevel(rest) {
                        index += 1
                        return .heading(level: level, text: Array(Source.trimmed(text[...])))
                    }
                    if interruptsParagraph(line, depth: depth) { break }
                }
                text.append(Byte.newline)
                text.append(contentsOf: Source.withoutIndent(line))
                index += 1
            }
            return .paragraph(Array(Source.trimmed(text[...])))
        }

        /// A line that ends a paragraph without a blank line before it (CommonMark: only a non-empty bullet item, or an
        /// ordered one numbered 1, interrupts a paragraph).
        static func interruptsParagraph(_ line: Line, depth: Int) -> Bool {
            let indent = Source.indent(line)
            guard indent < 4 else { return false }
            let rest = line.dropFirst(indent)
            if fenceOpening(rest) != nil || atxHeading(rest) != nil || isThematicBreak(rest) { return true }
            guard depth < Markdown.maximumNesting else { return false }
            if rest.first == Byte.greater { return true }
            if let marker = listMarker(line), !marker.isEmpty, !marker.ordered || marker.number == 1 { return true }
            return false
        }

        static func indentedCode(_ lines: [Line], _ index: inout Int) -> Block {
            var body: [Line] = []
            while index < lines.count, Source.isBlank(lines[index]) || Source.indent(lines[index]) >= 4 {
                body.append(lines[index].dropFirst(min(4, Source.indent(lines[index]))))
                index += 1
            }
            var trailingBlanks = 0
            while let last = body.last, Source.isBlank(last) {
                body.removeLast()
                trailingBlanks += 1
            }
            index -= trailingBlanks
            return .code(language: nil, text: joined(body))
        }

        struct Fence {
            let character: UInt8
            let length: Int
            let info: Line
        }

        static func fenceOpening(_ rest: Line) -> Fence? {
            guard let first = rest.first, first == Byte.backtick || first == Byte.tilde else { return nil }
            let length = rest.prefix { $0 == first }.count
            guard length >= 3 else { return nil }
            let info = Source.trimmed(rest.dropFirst(length))
            if first == Byte.backtick && info.contains(Byte.backtick) { return nil }
            return Fence(character: first, length: length, info: info)
        }

        static func fencedCode(_ lines: [Line], _ index: inout Int, fence: Fence, indent: Int) -> Block {
            index += 1
            var body: [Line] = []
            while index < lines.count {
                let line = lines[index]
                index += 1
                let lineIndent = Source.indent(line)
                if lineIndent < 4 {
                    let rest = line.dropFirst(lineIndent)
                    let run = rest.prefix { $0 == fence.character }.count
                    if run >= fence.length && Source.isBlank(rest.dropFirst(run)) { break }
                }
                body.append(line.dropFirst(min(indent, lineIndent)))
            }
            let word = fence.info.prefix { $0 != Byte.space }
            let safe = !word.isEmpty && word.allSatisfy { Byte.isAlphanumeric($0) || "+-_.#".utf8.contains($0) }
            return .code(language: safe ? word : nil, text: joined(body))
        }

        static func joined(_ body: [Line]) -> [UInt8] {
            var text: [UInt8] = []
            for line in body {
                text.append(contentsOf: line)
                text.append(Byte.newline)
            }
            return text
        }

        static func atxHeading(_ rest: Line) -> (level: Int, text: Line)? {
            let level = rest.prefix { $0 == Byte.hash }.count
            guard (1...6).contains(level) else { return nil }
            var text = rest.dropFirst(level)
            guard text.isEmpty || text.first == Byte.space else { return nil }
            text = Source.trimmed(text)
            // A closing run of #s, when the whole text is one or a space precedes it.
            let closing = text.reversed().prefix { $0 == Byte.hash }.count
            if closing == text.count {
                text = text.prefix(0)
            } else if closing > 0, text[text.endIndex - closing - 1] == Byte.space {
                text = Source.trimmed(text.dropLast(closing))
            }
            return (level, text)
        }

        static func setextLevel(_ rest: Line) -> Int? {
            guard let first = rest.first, first == Byte.equals || first == Byte.dash else { return nil }
            let run = rest.prefix { $0 == first }.count
            guard Source.isBlank(rest.dropFirst(run)) else { return nil }
            return first == Byte.equals ? 1 : 2
        }

        static func isThematicBreak(_ rest: Line) -> Bool {
            guard let first = rest.first, first == Byte.star || first == Byte.dash || first == Byte.underscore else { return false }
            var count = 0
            for byte in rest {
                if byte == first {
                    count += 1
                } else if byte != Byte.space {
                    return false
                }
            }
            return count >= 3
        }

        // `>` lines, and lines of a paragraph continued without the `>` ("lazy" lines), with the marker taken off.
        static func quoteLines(_ lines: [Line], _ index: inout Int, depth: Int) -> [Line] {
            var inner: [Line] = []
            while index < lines.count {
                let line = lines[index]
                let indent = Source.indent(line)
                if indent < 4, line.dropFirst(indent).first == Byte.greater {
                    var rest = line.dropFirst(indent + 1)
                    if rest.first == Byte.space { rest = rest.dropFirst() }
                    inner.append(rest)
                } else if !Source.isBlank(line), let last = inner.last, !Source.isBlank(last), !interruptsParagraph(line, depth: depth) {
                    inner.append(line)
                } else {
                    break
                }
                index += 1
            }
            return inner
        }

        static func listMarker(_ line: Line) -> ListMarker? {
            let indent = Source.indent(line)
            guard indent < 4 else { return nil }
            let rest = line.dropFirst(indent)
            guard let first = rest.first else { return nil }
            var ordered = false
            var number = 0
            var markerWidth = 1
            var character = first
            if first == Byte.dash || first == Byte.plus || first == Byte.star {
                // a bullet
            } else if Byte.isDigit(first) {
                let digits = rest.prefix(while: Byte.isDigit)
                guard digits.count <= 9, let delimiter = rest.dropFirst(digits.count).first,
                    delimiter == Byte.dot || delimiter == Byte.closeParen
                else { return nil }
                ordered = true
                number = digits.reduce(0) { $0 * 10 + Int($1 - Byte.digit0) }
                markerWidth = digits.count + 1
                character = delimiter
            } else {
                return nil
            }
            let afterMarker = rest.dropFirst(markerWidth)
            guard afterMarker.isEmpty || afterMarker.first == Byte.space else { return nil }
            let markerEnd = indent + markerWidth
            let spaces = Source.indent(afterMarker)
            let isEmpty = Source.isBlank(afterMarker)
            // One to four spaces set the content column; five or more mean the content is indented code after one.
            let contentColumn = isEmpty || spaces > 4 ? markerEnd + 1 : markerEnd + spaces
            return ListMarker(ordered: ordered, character: character, number: number, contentColumn: contentColumn, isEmpty: isEmpty)
        }

        static func list(_ lines: [Line], _ index: inout Int, first: ListMarker, depth: Int) -> Block {
            func sibling(_ line: Line) -> ListMarker? {
                guard !isThematicBreak(line.dropFirst(Source.indent(line))), let marker = listMarker(line),
                    marker.ordered == first.ordered, marker.character == first.character
                else { return nil }
                return marker
            }
            var items: [[Block]] = []
            var loose = false
            var next: ListMarker? = first
            while let marker = next {
                let firstLine = lines[index]
                var itemLines: [Line] = [marker.isEmpty ? firstLine.suffix(0) : firstLine.dropFirst(marker.contentColumn)]
                index += 1
                var trailingBlanks = 0
                while index < lines.count {
                    let line = lines[index]
                    if Source.isBlank(line) {
                        // An item can start with at most one blank line.
                        if itemLines.count == 1 && Source.isBlank(itemLines[0]) { break }
                        itemLines.append(line.suffix(0))
                        trailingBlanks += 1
                    } else if Source.indent(line) >= marker.contentColumn {
                        itemLines.append(line.dropFirst(marker.contentColumn))
                        trailingBlanks = 0
                    } else if trailingBlanks == 0, let last = itemLines.last, !Source.isBlank(last), listMarker(line) == nil,
                    !interruptsParagraph(line, depth: depth)
                {
                        itemLines.append(line.dropFirst(Source.indent(line)))
                    } else {
                        break
                    }
                    index += 1
                }
                // Blank lines at the end of an item belong to what encloses the list, unless another item follows.
                itemLines.removeLast(trailingBlanks)
                index -= trailingBlanks
                let item = parse(itemLines, depth: depth + 1)
                if item.blankBetweenBlocks { loose = true }
                items.append(item.blocks)
                var after = index
                while after < lines.count && Source.isBlank(lines[after]) { after += 1 }
                next = after < lines.count ? sibling(lines[after]) : nil
                if next != nil && after > index { loose = true }
                if next != nil { index = after }
            }
            return .list(ordered: first.ordered, start: first.number, loose: loose, items: items)
        }
    }

    // MARK: - HTML

    enum HTMLWriter {
        static func blocks(_ blocks: [Block], tight: Bool, into out: inout [UInt8]) {
            for (offset, block) in blocks.enumerated() {
                if offset > 0 { out.append(Byte.newline) }
                switch block {
                case .paragraph(let text):
                    if !tight { out.append(contentsOf: "<p>".utf8) }
                    InlineRenderer.render(text[...], allowLinks: true, into: &out)
                    if !tight { out.append(contentsOf: "</p>".utf8) }
                case .heading(let level, let text):
                    out.append(contentsOf: "<h\(level)>".utf8)
                    InlineRenderer.render(text[...], allowLinks: true, into: &out)
                    out.append(contentsOf: "</h\(level)>".utf8)
                case .code(let language, let text):
                    out.append(contentsOf: "<pre><code".utf8)
                    if let language {
                        out.append(contentsOf: #" class="language-"#.utf8)
                        escape(language, into: &out)
                        out.append(Byte.quote)
                    }
                    out.append(Byte.greater)
                    escape(text[...], into: &out)
                    out.append(contentsOf: "</code></pre>".utf8)
                case .rule:
                    out.append(contentsOf: "<hr>".utf8)
                case .quote(let children):
                    out.append(contentsOf: "<blockquote>\n".utf8)
                    self.blocks(children, tight: false, into: &out)
                    if !children.isEmpty { out.append(Byte.newline) }
                    out.append(contentsOf: "</blockquote>".utf8)
                case .list(let ordered, let start, let loose, let items):
                    out.append(contentsOf: (ordered ? (start == 1 ? "<ol>" : "<ol start=\"\(start)\">") : "<ul>").utf8)
                    for item in items {
                        out.append(contentsOf: "\n<li>".utf8)
                        self.blocks(item, tight: !loose, into: &out)
                        out.append(contentsOf: "</li>".utf8)
                    }
                    out.append(contentsOf: (ordered ? "\n</ol>" : "\n</ul>").utf8)
                }
            }
        }

        /// Text for an element's content or a quoted attribute value.
        static func escape(_ text: some Sequence<UInt8>, into out: inout [UInt8]) {
            for byte in text { escape(byte, into: &out) }
        }

        static func escape(_ byte: UInt8, into out: inout [UInt8]) {
            switch byte {
            case Byte.ampersand: out.append(contentsOf: "&amp;".utf8)
            case Byte.less: out.append(contentsOf: "&lt;".utf8)
            case Byte.greater: out.append(contentsOf: "&gt;".utf8)
            case Byte.quote: out.append(contentsOf: "&quot;".utf8)
            case Byte.apostrophe: out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
    }

    // MARK: - Inline

    /// The inline content of one paragraph or heading: code spans, links and images, autolinks, entities and breaks are
    /// rendered as they are met; emphasis runs become delimiters, paired afterwards by CommonMark's algorithm (with its
    /// "openers bottom" bookkeeping, so pairing stays linear).
    struct InlineRenderer {
        struct Node {
            var html: [UInt8] = []
            /// `*`, `_` or `~` for an emphasis run, 0 for rendered HTML.
            var delimiter: UInt8 = 0
            var count = 0
            var original = 0
            var canOpen = false
            var canClose = false
            /// Closing tags written before the run's unused characters, opening tags after them.
            var before: [UInt8] = []
            var after: [UInt8] = []
        }

        let text: ArraySlice<UInt8>
        let allowLinks: Bool
        let codeSpans: [Int: Int]
        let brackets: [Int: Int]
        var nodes: [Node] = []
        var pending: [UInt8] = []

        /// Link text, titles and destinations longer than this are not links (and scanning for them stays bounded).
        static let maximumLinkPart = 2048

        static func render(_ text: ArraySlice<UInt8>, allowLinks: Bool, into out: inout [UInt8]) {
            var renderer = InlineRenderer(text: text, allowLinks: allowLinks)
            renderer.scan()
            renderer.pairEmphasis()
            for node in renderer.nodes {
                if node.delimiter == 0 {
                    out.append(contentsOf: node.html)
                } else {
                    out.append(contentsOf: node.before)
                    out.append(contentsOf: repeatElement(node.delimiter, count: node.count))
                    out.append(contentsOf: node.after)
                }
            }
        }

        init(text: ArraySlice<UInt8>, allowLinks: Bool) {
            self.text = text
            self.allowLinks = allowLinks
            self.codeSpans = Self.codeSpans(in: text)
            self.brackets = Self.brackets(in: text, codeSpans: codeSpans)
        }

        func byte(_ index: Int) -> UInt8? { index >= text.startIndex && index < text.endIndex ? text[index] : nil }

        func runLength(at index: Int, of byte: UInt8) -> Int {
            var end = index
            while end < text.endIndex && text[end] == byte { end += 1 }
            return end - index
        }

        func isEscape(at index: Int) -> Bool {
            text[index] == Byte.backslash && byte(index + 1).map(Byte.isPunctuation) == true
        }

        /// Where each opening backtick run's closing run starts: the next run of the same length.
        static func codeSpans(in text: ArraySlice<UInt8>) -> [Int: Int] {
            guard text.contains(Byte.backtick) else { return [:] }
            var runsByLength: [Int: [Int]] = [:]
            var index = text.startIndex
            while index < text.endIndex {
                guard text[index] == Byte.backtick else {
                    index += 1
                    continue
                }
                let start = index
                while index < text.endIndex && text[index] == Byte.backtick { index += 1 }
                runsByLength[index - start, default: []].append(start)
            }
            var cursors: [Int: Int] = [:]
            var spans: [Int: Int] = [:]
            index = text.startIndex
            while index < text.endIndex {
                let byte = text[index]
                if byte == Byte.backslash, index + 1 < text.endIndex, Byte.isPunctuation(text[index + 1]) {
                    index += 2
                    continue
                }
                guard byte == Byte.backtick else {
                    index += 1
                    continue
                }
                let start = index
                while index < text.endIndex && text[index] == Byte.backtick { index += 1 }
                let length = index - start
                let runs = runsByLength[length] ?? []
                var cursor = cursors[length, default: 0]
                while cursor < runs.count && runs[cursor] < index { cursor += 1 }
                if cursor < runs.count {
                    spans[start] = runs[cursor]
                    index = runs[cursor] + length
                    cursor += 1
                }
                cursors[length] = cursor
            }
            return spans
        }

        /// Each `[` and the `]` that closes it, outside code spans and autolinks and not escaped.
        static func brackets(in text: ArraySlice<UInt8>, codeSpans: [Int: Int]) -> [Int: Int] {
            guard text.contains(Byte.openBracket) else { return [:] }
            var open: [Int] = []
            var matches: [Int: Int] = [:]
            var index = text.startIndex
            while index < text.endIndex {
                let byte = text[index]
                if byte == Byte.backslash, index + 1 < text.endIndex, Byte.isPunctuation(text[index + 1]) {
                    index += 2
                    continue
                }
                if byte == Byte.backtick {
                    let length = text[index...].prefix { $0 == Byte.backtick }.count
                    index = (codeSpans[index].map { $0 } ?? index) + length
                    continue
                }
                if byte == Byte.less, let end = autolink(in: text, at: index)?.end {
                    index = end
                    continue
                }
                if byte == Byte.openBracket {
                    open.append(index)
                } else if byte == Byte.closeBracket, let opener = open.popLast() {
                    matches[opener] = index
                }
                index += 1
            }
            return matches
        }

        mutating func scan() {
            var index = text.startIndex
            while index < text.endIndex {
                let byte = text[index]
                switch byte {
                case Byte.backslash:
                    if let next = self.byte(index + 1), Byte.isPunctuation(next) {
                        HTMLWriter.escape(next, into: &pending)
                        index += 2
                    } else if self.byte(index + 1) == Byte.newline {
                        pending.append(contentsOf: "<br>\n".utf8)
                        index = skipSpaces(from: index + 2)
                    } else {
                        pending.append(byte)
                        index += 1
                    }
                case Byte.backtick:
                    let length = runLength(at: index, of: Byte.backtick)
                    if let close = codeSpans[index] {
                        codeSpan(text[(index + length)..<close])
                        index = close + length
                    } else {
                        pending.append(contentsOf: repeatElement(Byte.backtick, count: length))
                        index += length
                    }
                case Byte.bang where self.byte(index + 1) == Byte.openBracket:
                    if let end = linkOrImage(at: index + 1, image: true) {
                        index = end
                    } else {
                        pending.append(byte)
                        index += 1
                    }
                case Byte.openBracket:
                    if allowLinks, let end = linkOrImage(at: index, image: false) {
                        index = end
                    } else {
                        pending.append(byte)
                        index += 1
                    }
                case Byte.less:
                    if let autolink = Self.autolink(in: text, at: index) {
                        if allowLinks {
                            link(href: autolink.href, title: nil, content: Self.escaped(text[(index + 1)..<(autolink.end - 1)]))
                        } else {
                            HTMLWriter.escape(text[index..<autolink.end], into: &pending)
                        }
                        index = autolink.end
                    } else {
                        HTMLWriter.escape(byte, into: &pending)
                        index += 1
                    }
                case Byte.star, Byte.underscore, Byte.tilde:
                    index = delimiterRun(at: index)
                case Byte.newline:
                    var spaces = 0
                    while pending.last == Byte.space {
                        pending.removeLast()
                        spaces += 1
                    }
                    pending.append(contentsOf: (spaces >= 2 ? "<br>\n" : "\n").utf8)
                    index = skipSpaces(from: index + 1)
                case Byte.ampersand:
                    let length = Self.entityLength(in: text, at: index)
                    if length > 0 {
                        pending.append(contentsOf: text[index..<(index + length)])
                        index += length
                    } else {
                        pending.append(contentsOf: "&amp;".utf8)
                        index += 1
                    }
                default:
                    HTMLWriter.escape(byte, into: &pending)
                    index += 1
                }
            }
            flush()
        }

        func skipSpaces(from index: Int) -> Int {
            var index = index
            while index < text.endIndex && text[index] == Byte.space { index += 1 }
            return index
        }

        mutating func flush() {
            guard !pending.isEmpty else { return }
            nodes.append(Node(html: pending))
            pending.removeAll(keepingCapacity: true)
        }

        mutating func codeSpan(_ content: ArraySlice<UInt8>) {
            var content = Array(content.map { $0 == Byte.newline ? Byte.space : $0 })[...]
            if content.count >= 2, content.first == Byte.space, content.last == Byte.space, content.contains(where: { $0 != Byte.space }) {
                content = content.dropFirst().dropLast()
            }
            pending.append(contentsOf: "<code>".utf8)
            HTMLWriter.escape(content, into: &pending)
            pending.append(contentsOf: "</code>".utf8)
        }

        // MARK: Links and images

        /// `[text](destination "title")` or, after a `!`, an image; returns where it ends, or nil when it is not one.
        mutating func linkOrImage(at open: Int, image: Bool) -> Int? {
            guard let close = brackets[open], close - open <= Self.maximumLinkPart, let tail = linkTail(at: close + 1) else { return nil }
            let inner = text[(open + 1)..<close]
            guard let url = URLPolicy.attribute(for: tail.destination, allowing: image ? URLPolicy.imageSchemes : URLPolicy.linkSchemes) else {
                // Not a URL we link to: the text stays, the destination goes.
                if image {
                    HTMLWriter.escape(Self.plainText(inner), into: &pending)
                } else {
                    var content: [UInt8] = []
                    InlineRenderer.render(inner, allowLinks: false, into: &content)
                    pending.append(contentsOf: content)
                }
                return tail.end
            }
            if image {
                pending.append(contentsOf: #"<img src=""#.utf8)
                pending.append(contentsOf: url)
                pending.append(contentsOf: #"" alt=""#.utf8)
                HTMLWriter.escape(Self.plainText(inner), into: &pending)
                pending.append(Byte.quote)
                if let title = tail.title {
                    pending.append(contentsOf: #" title=""#.utf8)
                    HTMLWriter.escape(title, into: &pending)
                    pending.append(Byte.quote)
                }
                pending.append(contentsOf: #" loading="lazy">"#.utf8)
            } else {
                var content: [UInt8] = []
                InlineRenderer.render(inner, allowLinks: false, into: &content)
                link(href: url, title: tail.title, content: content)
            }
            return tail.end
        }

        mutating func link(href: [UInt8], title: [UInt8]?, content: [UInt8]) {
            pending.append(contentsOf: #"<a href=""#.utf8)
            pending.append(contentsOf: href)
            pending.append(Byte.quote)
            if let title {
                pending.append(contentsOf: #" title=""#.utf8)
                HTMLWriter.escape(title, into: &pending)
                pending.append(Byte.quote)
            }
            pending.append(contentsOf: #" rel="nofollow ugc">"#.utf8)
            pending.append(contentsOf: content)
            pending.append(contentsOf: "</a>".utf8)
        }

        /// An image's alt text: what was typed, without backslash escapes.
        static func plainText(_ text: ArraySlice<UInt8>) -> [UInt8] {
            var plain: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                if text[index] == Byte.backslash, index + 1 < text.endIndex, Byte.isPunctuation(text[index + 1]) { index += 1 }
                plain.append(text[index] == Byte.newline ? Byte.space : text[index])
                index += 1
            }
            return plain
        }

        static func escaped(_ text: ArraySlice<UInt8>) -> [UInt8] {
            var out: [UInt8] = []
            HTMLWriter.escape(text, into: &out)
            return out
        }

        struct LinkTail {
            var destination: [UInt8] = []
            var title: [UInt8]?
            var end = 0
        }

        /// `(destination "title")` at `index`, backslash escapes resolved.
        func linkTail(at start: Int) -> LinkTail? {
            guard byte(start) == Byte.openParen else { return nil }
            var tail = LinkTail()
            var index = skipWhitespace(from: start + 1)
            let limit = min(text.endIndex, index + Self.maximumLinkPart)
            if byte(index) == Byte.less {
                index += 1
                while true {
                    guard index < limit, let current = byte(index), current != Byte.newline, current != Byte.less else { return nil }
                    if current == Byte.greater { break }
                    if isEscape(at: index) { index += 1 }
                    tail.destination.append(text[index])
                    index += 1
                }
                index += 1
            } else {
                var depth = 0
                while index < limit, let current = byte(index), current > Byte.space, current != 0x7F {
                    if isEscape(at: index) {
                        tail.destination.append(text[index + 1])
                        index += 2
                        continue
                    }
                    if current == Byte.openParen {
                        depth += 1
                        guard depth <= 32 else { return nil }
                    } else if current == Byte.closeParen {
                        if depth == 0 { break }
                        depth -= 1
                    }
                    tail.destination.append(current)
                    index += 1
                }
                guard depth == 0, index < limit else { return nil }
            }
            let beforeTitle = index
            index = skipWhitespace(from: index)
            if index > beforeTitle, let opening = byte(index), opening == Byte.quote || opening == Byte.apostrophe || opening == Byte.openParen {
                let closing = opening == Byte.openParen ? Byte.closeParen : opening
                var title: [UInt8] = []
                index += 1
                let titleLimit = min(text.endIndex, index + Self.maximumLinkPart)
                while true {
                    guard index < titleLimit, let current = byte(index) else { return nil }
                    if current == closing { break }
                    if opening == Byte.openParen && current == Byte.openParen { return nil }
                    if isEscape(at: index) { index += 1 }
                    title.append(text[index] == Byte.newline ? Byte.space : text[index])
                    index += 1
                }
                tail.title = title
                index = skipWhitespace(from: index + 1)
            }
            guard byte(index) == Byte.closeParen else { return nil }
            tail.end = index + 1
            return tail
        }

        func skipWhitespace(from index: Int) -> Int {
            var index = index
            while index < text.endIndex && (text[index] == Byte.space || text[index] == Byte.newline) { index += 1 }
            return index
        }

        /// `<scheme:…>` or `<name@example.com>`: the href (escaped, nil when the scheme is not allowed) and where it ends.
        static func autolink(in text: ArraySlice<UInt8>, at start: Int) -> (href: [UInt8], end: Int)? {
            var index = start + 1
            let limit = min(text.endIndex, index + maximumLinkPart)
            while index < limit, text[index] != Byte.greater {
                let byte = text[index]
                if byte <= Byte.space || byte == Byte.less || byte == 0x7F { return nil }
                index += 1
            }
            guard index < limit, index > start + 1 else { return nil }
            let inner = text[(start + 1)..<index]
            let end = index + 1
            if let colon = inner.firstIndex(of: Byte.colon), let first = inner.first, Byte.isLetter(first),
                (2...32).contains(colon - inner.startIndex),
                inner[inner.startIndex..<colon].allSatisfy({ Byte.isAlphanumeric($0) || $0 == Byte.plus || $0 == Byte.dot || $0 == Byte.dash })
            {
                guard let href = URLPolicy.attribute(for: Array(inner), allowing: URLPolicy.linkSchemes) else { return nil }
                return (href, end)
            }
            if isEmailAddress(inner) {
                return (Array("mailto:".utf8) + escaped(inner), end)
            }
            return nil
        }

        static func isEmailAddress(_ text: ArraySlice<UInt8>) -> Bool {
            guard let at = text.firstIndex(of: Byte.at), at > text.startIndex, at < text.endIndex - 1 else { return false }
            let local = text[text.startIndex..<at]
            let domain = text[(at + 1)...]
            return local.allSatisfy { Byte.isAlphanumeric($0) || ".!#$%&'*+/=?^_`{|}~-".utf8.contains($0) }
                && domain.allSatisfy { Byte.isAlphanumeric($0) || $0 == Byte.dash || $0 == Byte.dot }
                && domain.first.map(Byte.isAlphanumeric) == true && domain.last.map(Byte.isAlphanumeric) == true
        }

        /// The length of an entity reference at `start` (`&amp;`, `&#38;`, `&#x26;`), or 0. Passed through as typed: in
        /// an element's content a browser decodes it to text, which cannot become markup.
        static func entityLength(in text: ArraySlice<UInt8>, at start: Int) -> Int {
            var index = start + 1
            let limit = min(text.endIndex, start + 34)
            if index < limit, text[index] == UInt8(ascii: "#") {
                index += 1
                let hex = index < limit && (text[index] == UInt8(ascii: "x") || text[index] == UInt8(ascii: "X"))
                if hex { index += 1 }
                let digitsStart = index
                while index < limit, hex ? Byte.isHexDigit(text[index]) : Byte.isDigit(text[index]) { index += 1 }
                let digits = index - digitsStart
                guard digits >= 1, digits <= (hex ? 6 : 7), index < limit, text[index] == Byte.semicolon else { return 0 }
                return index + 1 - start
            }
            let nameStart = index
            while index < limit, Byte.isAlphanumeric(text[index]) { index += 1 }
            guard index - nameStart >= 2, Byte.isLetter(text[nameStart]), index < limit, text[index] == Byte.semicolon else { return 0 }
            return index + 1 - start
        }

        // MARK: Emphasis

        mutating func delimiterRun(at start: Int) -> Int {
            let character = text[start]
            let length = runLength(at: start, of: character)
            let end = start + length
            if character == Byte.tilde && length != 2 {
                pending.append(contentsOf: repeatElement(character, count: length))
                return end
            }
            let before: UInt8? = start > text.startIndex ? text[start - 1] : nil
            let after = byte(end)
            let beforeIsPunctuation = before.map(Byte.isPunctuation) ?? false
            let afterIsPunctuation = after.map(Byte.isPunctuation) ?? false
            let leftFlanking = !Byte.isWhitespace(after) && (!afterIsPunctuation || Byte.isWhitespace(before) || beforeIsPunctuation)
            let rightFlanking = !Byte.isWhitespace(before) && (!beforeIsPunctuation || Byte.isWhitespace(after) || afterIsPunctuation)
            var node = Node(delimiter: character, count: length, original: length)
            if character == Byte.underscore {
                node.canOpen = leftFlanking && (!rightFlanking || beforeIsPunctuation)
                node.canClose = rightFlanking && (!leftFlanking || afterIsPunctuation)
            } else {
                node.canOpen = leftFlanking
                node.canClose = rightFlanking
            }
            flush()
            nodes.append(node)
            return end
        }

        /// CommonMark's "process emphasis" over the delimiter runs, in one pass over the closers.
        mutating func pairEmphasis() {
            let delimiters = nodes.indices.filter { nodes[$0].delimiter != 0 }
            guard delimiters.count >= 2 else { return }
            // A doubly linked list over `delimiters`; -1 ends it.
            var previous = Array(-1..<(delimiters.count - 1))
            var next = Array(1...delimiters.count)
            next[delimiters.count - 1] = -1
            func remove(_ position: Int) {
                if previous[position] >= 0 { next[previous[position]] = next[position] }
                if next[position] >= 0 { previous[next[position]] = previous[position] }
            }
            var openersBottom: [Int: Int] = [:]
            var closer = 0
            while closer >= 0 {
                let closing = nodes[delimiters[closer]]
                guard closing.canClose else {
                    closer = next[closer]
                    continue
                }
                let key = Int(closing.delimiter) * 8 + (closing.original % 3) * 2 + (closing.canOpen ? 1 : 0)
                let bottom = openersBottom[key] ?? -1
                var opener = previous[closer]
                while opener > bottom {
                    let opening = nodes[delimiters[opener]]
                    if opening.delimiter == closing.delimiter && opening.canOpen && opening.count > 0 {
                        let oddMatch =
                            (opening.canClose || closing.canOpen) && (opening.original + closing.original) % 3 == 0
                            && !(opening.original % 3 == 0 && closing.original % 3 == 0)
                        if !oddMatch { break }
                    }
                    opener = previous[opener]
                }
                guard opener > bottom else {
                    openersBottom[key] = previous[closer]
                    let following = next[closer]
                    if !closing.canOpen { remove(closer) }
                    closer = following
                    continue
                }
                let used = closing.delimiter == Byte.tilde ? 2 : (nodes[delimiters[opener]].count >= 2 && closing.count >= 2 ? 2 : 1)
                let tag = closing.delimiter == Byte.tilde ? "del" : (used == 2 ? "strong" : "em")
                nodes[delimiters[opener]].count -= used
                nodes[delimiters[opener]].after.insert(contentsOf: "<\(tag)>".utf8, at: 0)
                nodes[delimiters[closer]].count -= used
                nodes[delimiters[closer]].before.append(contentsOf: "</\(tag)>".utf8)
                // Runs between the pair can no longer pair with anything outside it.
                next[opener] = closer
                previous[closer] = opener
                if nodes[delimiters[opener]].count == 0 { remove(opener) }
                if nodes[delimiters[closer]].count == 0 {
                    let following = next[closer]
                    remove(closer)
                    closer = following
                }
            }
        }
    }

    // MARK: - URLs

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
                    HTMLWriter.escape(byte, into: &out)
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
