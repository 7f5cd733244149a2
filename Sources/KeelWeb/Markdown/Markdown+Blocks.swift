// Blocks: the parsed document (paragraphs, headings, code, rules, quotes, lists) and the parser that builds it.

import KeelCore

extension Markdown {
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
}
