import Foundation

/// One piece of a compiled template.
///
/// Names are split at their dots when the template is compiled (`keel.csrf_token` is `["keel", "csrf_token"]`; `.`
/// is the empty path), so rendering never parses a name again.
enum TemplateNode: Sendable {
    /// Text written as it is.
    case text(String)
    /// `{{name}}` (escaped) or `{{{name}}}` / `{{&name}}` (raw); `{{urlencode(name)}}` percent-encoded first.
    case variable([String], escaped: Bool, urlEncoded: Bool)
    /// `{{#name}}…{{/name}}`, or `{{^name}}…{{/name}}` when inverted.
    case section([String], [TemplateNode], inverted: Bool)
    /// `{{> name}}`, with the whitespace in front of it when the tag stands alone on its line.
    case partial(String, indentation: String)
    /// `{{< name}}…{{/name}}`: the template `name`, with the blocks defined inside replacing its own.
    case parent(String, blocks: [String: [TemplateNode]])
    /// `{{$name}}…{{/name}}`: a block a child template may replace; the content is the default.
    case block(String, [TemplateNode])
    /// `{{% CONTENT_TYPE: TEXT}}` (no escaping from here on) or `HTML` (escaping again).
    case escaping(Bool)
}

/// A template's text, compiled: the Mustache language (variables, sections, inverted sections, comments, partials,
/// parents and blocks, set delimiters, the standalone-line rules) as the spec defines it, checked whole before the
/// first render. Lambdas are not part of it: a page's model is data.
struct TemplateParser {
    /// Why a template does not compile, and where (line and column from 1, columns in characters).
    struct Failure: Error {
        let line: Int
        let column: Int
        let message: String
    }

    private let bytes: [UInt8]
    private var open: [UInt8] = Array("{{".utf8)
    private var close: [UInt8] = Array("}}".utf8)
    private var position = 0
    /// Where the current line starts, and where the last tag ended (a tag earlier on the same line keeps another from
    /// standing alone).
    private var lineStart = 0
    private var lastTagEnd = -1

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    static func parse(_ text: String) throws(Failure) -> [TemplateNode] {
        var parser = TemplateParser(text)
        return try parser.run()
    }

    private struct Frame {
        enum Kind { case root, section([String], inverted: Bool), parent, block }
        let kind: Kind
        let name: String
        let offset: Int
        var nodes: [TemplateNode] = []
    }

    private mutating func run() throws(Failure) -> [TemplateNode] {
        var frames = [Frame(kind: .root, name: "", offset: 0)]
        var textStart = 0
        while position < bytes.count {
            guard let tagStart = find(open, from: position) else { break }
            advanceLines(from: position, to: tagStart)
            var contentStart = tagStart + open.count
            var sigil: UInt8 = 0
            if contentStart < bytes.count, Self.sigils.contains(bytes[contentStart]) {
                sigil = bytes[contentStart]
                contentStart += 1
            }
            let closer: [UInt8] = sigil == UInt8(ascii: "{") ? [UInt8(ascii: "}")] + close
                : sigil == UInt8(ascii: "=") ? [UInt8(ascii: "=")] + close : close
            guard let contentEnd = find(closer, from: contentStart) else {
                throw failure(at: tagStart, "the tag is not closed (expected '\(String(decoding: closer, as: UTF8.self))')")
            }
            let tagEnd = contentEnd + closer.count
            let content = Self.trimmed(String(decoding: bytes[contentStart..<contentEnd], as: UTF8.self))

            // The standalone rule: a tag other than a variable alone on its line (with only spaces and tabs around it)
            // removes the whole line, its indentation and its line break, from the output.
            var textEnd = tagStart
            var next = tagEnd
            var indentation = ""
            if Self.standaloneSigils.contains(sigil), lastTagEnd < lineStart,
               bytes[lineStart..<tagStart].allSatisfy(Self.isSpace), let lineEnd = lineBreakEnd(after: tagEnd) {
                textEnd = lineStart
                indentation = String(decoding: bytes[lineStart..<tagStart], as: UTF8.self)
                next = lineEnd
            }
            if textEnd > textStart {
                frames[frames.count - 1].nodes.append(.text(String(decoding: bytes[textStart..<textEnd], as: UTF8.self)))
            }

            switch sigil {
            case UInt8(ascii: "!"):
                break
            case UInt8(ascii: "="):
                let parts = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count == 2, !parts[0].contains("="), !parts[1].contains("=") else {
                    throw failure(at: tagStart, "set delimiters as {{=<% %>=}}: two delimiters without '=' or spaces")
                }
                open = Array(parts[0].utf8)
                close = Array(parts[1].utf8)
            case UInt8(ascii: "%"):
                let pragma = content.split(separator: ":", maxSplits: 1).map { Self.trimmed(String($0)) }
                guard pragma.count == 2, pragma[0] == "CONTENT_TYPE", ["TEXT", "HTML"].contains(pragma[1]) else {
                    throw failure(at: tagStart, "unknown pragma '\(content)' (known: CONTENT_TYPE: TEXT, CONTENT_TYPE: HTML)")
                }
                frames[frames.count - 1].nodes.append(.escaping(pragma[1] == "HTML"))
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                let path = try self.path(content, at: tagStart)
                frames.append(Frame(kind: .section(path, inverted: sigil == UInt8(ascii: "^")), name: content, offset: tagStart))
            case UInt8(ascii: "$"):
                try requireName(content, at: tagStart)
                frames.append(Frame(kind: .block, name: content, offset: tagStart))
            case UInt8(ascii: "<"):
                try requireName(content, at: tagStart)
                frames.append(Frame(kind: .parent, name: content, offset: tagStart))
            case UInt8(ascii: "/"):
                guard frames.count > 1 else { throw failure(at: tagStart, "'{{/\(content)}}' closes nothing") }
                let frame = frames.removeLast()
                guard frame.name == content else {
                    throw failure(at: tagStart, "'{{/\(content)}}' closes '\(frame.name)', opened at \(location(frame.offset))")
                }
                let node: TemplateNode
                switch frame.kind {
                case .section(let path, let inverted): node = .section(path, frame.nodes, inverted: inverted)
                case .block: node = .block(frame.name, frame.nodes)
                case .parent:
                    var blocks: [String: [TemplateNode]] = [:]
                    for case .block(let name, let nodes) in frame.nodes { blocks[name] = nodes }
                    node = .parent(frame.name, blocks: blocks)
                case .root: preconditionFailure("handled above")
                }
                frames[frames.count - 1].nodes.append(node)
            case UInt8(ascii: ">"):
                guard !content.hasPrefix("*") else { throw failure(at: tagStart, "dynamic partials ({{>*name}}) are not supported") }
                try requireName(content, at: tagStart)
                frames[frames.count - 1].nodes.append(.partial(content, indentation: indentation))
            default:
                // One transform, in swift-mustache's syntax: `{{urlencode(tag)}}` for a path segment or query value.
                var name = content
                var urlEncoded = false
                if name.hasSuffix(")"), let open = name.firstIndex(of: "(") {
                    let transform = String(name[..<open])
                    guard transform == "urlencode" else {
                        throw failure(at: tagStart, "unknown transform '\(transform)' (known: urlencode)")
                    }
                    name = Self.trimmed(String(name[name.index(after: open)..<name.index(before: name.endIndex)]))
                    urlEncoded = true
                }
                let path = try self.path(name, at: tagStart)
                let escaped = sigil != UInt8(ascii: "{") && sigil != UInt8(ascii: "&")
                frames[frames.count - 1].nodes.append(.variable(path, escaped: escaped, urlEncoded: urlEncoded))
            }
            lastTagEnd = tagEnd
            position = next
            textStart = next
            advanceLines(from: tagStart, to: next)
        }
        if textStart < bytes.count {
            frames[frames.count - 1].nodes.append(.text(String(decoding: bytes[textStart...], as: UTF8.self)))
        }
        guard frames.count == 1 else {
            let frame = frames[frames.count - 1]
            throw failure(at: frame.offset, "'\(frame.name)' is opened here and never closed")
        }
        return frames[0].nodes
    }

    private static let sigils: Set<UInt8> = Set("{&!#^/>$<=%".utf8)
    private static let standaloneSigils: Set<UInt8> = Set("!#^/>$<=%".utf8)

    private static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// After `offset`: spaces and tabs, then a line break or the end. Where the next line starts, or nil.
    private func lineBreakEnd(after offset: Int) -> Int? {
        var index = offset
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        if index == bytes.count { return index }
        if bytes[index] == UInt8(ascii: "\n") { return index + 1 }
        if bytes[index] == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
        return nil
    }

    /// Moves `lineStart` past the line breaks between two offsets (inside a tag or a skipped line).
    private mutating func advanceLines(from start: Int, to end: Int) {
        var index = end - 1
        while index >= start {
            if bytes[index] == UInt8(ascii: "\n") {
                lineStart = max(lineStart, index + 1)
                return
            }
            index -= 1
        }
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, start < bytes.count else { return nil }
        let first = needle[0]
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == first, bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private func path(_ name: String, at offset: Int) throws(Failure) -> [String] {
        try requireName(name, at: offset)
        if name == "." { return [] }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else { throw failure(at: offset, "'\(name)' is not a name (empty part between dots)") }
        return parts
    }

    private func requireName(_ name: String, at offset: Int) throws(Failure) {
        guard !name.isEmpty else { throw failure(at: offset, "a tag without a name") }
        guard !name.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) else {
            throw failure(at: offset, "'\(name)' is not a name (it has spaces)")
        }
    }

    private func location(_ offset: Int) -> String {
        let (line, column) = lineAndColumn(offset)
        return "\(line):\(column)"
    }

    private func lineAndColumn(_ offset: Int) -> (Int, Int) {
        var line = 1
        var start = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            start = index + 1
        }
        let column = String(decoding: bytes[start..<min(offset, bytes.count)], as: UTF8.self).count + 1
        return (line, column)
    }

    private func failure(at offset: Int, _ message: String) -> Failure {
        let (line, column) = lineAndColumn(offset)
        return Failure(line: line, column: column, message: message)
    }
}
