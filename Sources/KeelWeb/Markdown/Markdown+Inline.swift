// Inline content: code spans, links and images, autolinks, entities, breaks and emphasis.

import KeelCore

extension Markdown {
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
                        HTMLEscaping.append(next, to: &pending)
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
                            HTMLEscaping.append(text[index..<autolink.end], to: &pending)
                        }
                        index = autolink.end
                    } else {
                        HTMLEscaping.append(byte, to: &pending)
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
                    HTMLEscaping.append(byte, to: &pending)
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
            HTMLEscaping.append(content, to: &pending)
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
                    HTMLEscaping.append(Self.plainText(inner), to: &pending)
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
                HTMLEscaping.append(Self.plainText(inner), to: &pending)
                pending.append(Byte.quote)
                if let title = tail.title {
                    pending.append(contentsOf: #" title=""#.utf8)
                    HTMLEscaping.append(title, to: &pending)
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
                HTMLEscaping.append(title, to: &pending)
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
            HTMLEscaping.append(text, to: &out)
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
}
