import KeelCore
import NIOCore

/// Renders compiled templates into one buffer: the page's bytes are written once, where they end up, with no
/// intermediate strings per section or partial.
struct TemplateRenderer {
    let templates: [String: [TemplateNode]]
    var out: ByteBuffer
    /// The context stack: the page's scope first, then each section's value.
    private var stack: [TemplateValue]
    /// Names looked up and found nowhere.
    private(set) var missing: Set<String> = []
    /// Set when partials or parents nest deeper than `maximumNesting` (a template that includes itself forever).
    private(set) var tooDeep: String?
    private var nesting = 0
    /// The whitespace in front of a standalone partial, put in front of each of its lines.
    private var indentation = ""

    static let maximumNesting = 64

    init(templates: [String: [TemplateNode]], root: TemplateValue, capacity: Int) {
        self.templates = templates
        self.stack = [root]
        self.out = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func render(_ nodes: [TemplateNode], blocks: [String: [TemplateNode]] = [:]) {
        var escaping = true
        render(nodes, blocks: blocks, escaping: &escaping)
    }

    private mutating func render(_ nodes: [TemplateNode], blocks: [String: [TemplateNode]], escaping: inout Bool) {
        for node in nodes {
            switch node {
            case .text(let text):
                write(text)
            case .variable(let path, let escaped, let urlEncoded):
                // Lists and scopes show nothing; a value that starts a line of an indented partial is indented, but
                // its own line breaks are not.
                guard let text = lookup(path)?.text, !text.isEmpty else { continue }
                if !indentation.isEmpty, atLineStart { out.writeString(indentation) }
                if urlEncoded {
                    URLEncoding.write(text, into: &out)  // plain ASCII: nothing left to escape
                } else if escaped && escaping {
                    HTMLEscaping.write(text, into: &out)
                } else {
                    out.writeString(text)
                }
            case .section(let path, let body, let inverted):
                let value = lookup(path)
                if inverted {
                    if value?.isFalsy ?? true { render(body, blocks: blocks, escaping: &escaping) }
                } else if let value, !value.isFalsy {
                    if case .list(let values) = value {
                        for element in values { render(body, in: element, blocks: blocks, escaping: escaping) }
                    } else {
                        render(body, in: value, blocks: blocks, escaping: escaping)
                    }
                }
            case .partial(let name, let indented):
                guard let partial = enter(name) else { continue }
                let outer = indentation
                indentation += indented
                render(partial, blocks: blocks)
                indentation = outer
                nesting -= 1
            case .parent(let name, let overrides):
                guard let parent = enter(name) else { continue }
                // The blocks of the outermost child win: a page's `{{$title}}` over its layout's own parent's.
                render(parent, blocks: blocks.merging(overrides) { outer, _ in outer })
                nesting -= 1
            case .block(let name, let defaultNodes):
                var inner = escaping
                render(blocks[name] ?? defaultNodes, blocks: blocks, escaping: &inner)
            case .escaping(let on):
                escaping = on
            }
        }
    }

    /// A section's body with `value` innermost on the stack; a content-type pragma inside it ends with it.
    private mutating func render(_ body: [TemplateNode], in value: TemplateValue, blocks: [String: [TemplateNode]], escaping: Bool) {
        stack.append(value)
        var inner = escaping
        render(body, blocks: blocks, escaping: &inner)
        stack.removeLast()
    }

    /// The nodes of a partial or parent, counting how deep they nest; nil (and `tooDeep` set) past the limit.
    private mutating func enter(_ name: String) -> [TemplateNode]? {
        guard let nodes = templates[name] else { return nil }
        guard nesting < Self.maximumNesting else {
            tooDeep = tooDeep ?? name
            return nil
        }
        nesting += 1
        return nodes
    }

    /// A name's value: `.` is the innermost value; otherwise the innermost scope that has the first part, then the
    /// rest of the dotted name inside it. Nil when it is nowhere (recorded) or a later part is missing.
    private mutating func lookup(_ path: [String]) -> TemplateValue? {
        guard let first = path.first else { return stack.last }
        var found: TemplateValue?
        for value in stack.reversed() {
            if case .scope(let values) = value, let child = values[first] {
                found = child
                break
            }
        }
        guard var value = found else {
            missing.insert(path.joined(separator: "."))
            return nil
        }
        for name in path.dropFirst() {
            guard case .scope(let values) = value, let child = values[name] else { return nil }
            value = child
        }
        return value
    }

    private var atLineStart: Bool {
        out.readableBytes == 0 || out.getInteger(at: out.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\n")
    }

    private mutating func write(_ text: String) {
        guard !indentation.isEmpty else {
            out.writeString(text)
            return
        }
        // Inside an indented partial: the indentation goes in front of every line the partial's text starts.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        let last = lines.popLast() ?? ""
        for line in lines {
            if atLineStart, !line.isEmpty { out.writeString(indentation) }
            out.writeSubstring(line)
            out.writeInteger(UInt8(ascii: "\n"))
        }
        if atLineStart, !last.isEmpty { out.writeString(indentation) }
        out.writeSubstring(last)
    }
}
