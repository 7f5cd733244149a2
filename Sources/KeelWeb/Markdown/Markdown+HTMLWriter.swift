// Writing blocks as HTML, every character of the writer's text escaped (KeelCore's HTMLEscaping).

import KeelCore

extension Markdown {
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
                        HTMLEscaping.append(language, to: &out)
                        out.append(Byte.quote)
                    }
                    out.append(Byte.greater)
                    HTMLEscaping.append(text[...], to: &out)
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
    }
}
