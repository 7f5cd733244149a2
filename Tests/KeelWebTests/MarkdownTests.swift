import Foundation
import Keel
@testable import KeelWeb
import Testing

/// Checks rendered Markdown the way an attacker's target would see it: every tag is one the renderer may write, with
/// only its allowed attributes, properly nested and closed; no link inside a link; every link and image URL has an
/// allowed scheme once decoded as a browser decodes it; text has no raw `<` and no bare `&`.
struct SafeHTMLChecker {
    static let allowed: [String: Set<String>] = [
        "p": [], "br": [], "hr": [], "h1": [], "h2": [], "h3": [], "h4": [], "h5": [], "h6": [], "pre": [], "code": ["class"],
        "blockquote": [], "ul": [], "ol": ["start"], "li": [], "em": [], "strong": [], "del": [],
        "a": ["href", "title", "rel"], "img": ["src", "alt", "title", "loading"],
    ]
    static let void: Set<String> = ["br", "hr", "img"]

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func check(_ html: String) throws {
        let characters = Array(html.unicodeScalars)
        var open: [String] = []
        var index = 0
        func fail(_ what: String) -> Problem {
            Problem(description: "\(what) at \(index) in \(String(String.UnicodeScalarView(characters.prefix(index + 40).suffix(80))).debugDescription)")
        }
        while index < characters.count {
            let character = characters[index]
            if character == ">" { throw fail("raw >") }
            if character == "&" {
                guard isEntity(characters[(index + 1)..<min(characters.count, index + 34)]) else { throw fail("bare &") }
            }
            guard character == "<" else {
                index += 1
                continue
            }
            guard let end = characters[index...].firstIndex(of: ">") else { throw fail("unclosed tag") }
            let tag = String(String.UnicodeScalarView(characters[(index + 1)..<end]))
            if tag.hasPrefix("/") {
                let name = String(tag.dropFirst())
                guard open.last == name else { throw fail("</\(name)> closes \(open.last ?? "nothing")") }
                open.removeLast()
            } else {
                guard let (name, attributeList) = parseTag(tag) else { throw fail("malformed tag <\(tag)>") }
                guard let attributes = allowed[name] else { throw fail("tag \(name) not allowed") }
                if name == "a" && open.contains("a") { throw fail("a link inside a link") }
                for (key, value) in attributeList {
                    guard attributes.contains(key) else { throw fail("attribute \(key) on \(name)") }
                    if key == "href" || key == "src" {
                        guard isAllowedURL(decoded(value), image: key == "src") else { throw fail("URL \(value)") }
                    }
                    if key == "rel" && value != "nofollow ugc" { throw fail("rel \(value)") }
                }
                if !void.contains(name) { open.append(name) }
            }
            index = end + 1
        }
        guard open.isEmpty else { throw Problem(description: "unclosed \(open) in \(html.debugDescription)") }
    }

    /// `name key="value" key="value"`, values without quotes or angle brackets, or nil.
    static func parseTag(_ tag: String) -> (String, [(String, String)])? {
        var rest = Substring(tag)
        let name = rest.prefix { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var attributes: [(String, String)] = []
        while !rest.isEmpty {
            guard rest.first == " " else { return nil }
            rest = rest.dropFirst()
            let key = rest.prefix { ("a"..."z").contains($0) }
            guard !key.isEmpty, rest.dropFirst(key.count).hasPrefix("=\"") else { return nil }
            rest = rest.dropFirst(key.count + 2)
            guard let close = rest.firstIndex(of: "\"") else { return nil }
            let value = rest[rest.startIndex..<close]
            guard !value.contains("<") && !value.contains(">") else { return nil }
            attributes.append((String(key), String(value)))
            rest = rest[rest.index(after: close)...]
        }
        return (String(name), attributes)
    }

    /// `#123;`, `#x1F;` or `name;` at the start of `text`.
    static func isEntity(_ text: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let semicolon = text.firstIndex(of: ";") else { return false }
        let body = text[text.startIndex..<semicolon]
        if body.first == "#" {
            let hex = body.dropFirst().first == "x" || body.dropFirst().first == "X"
            let digits = body.dropFirst(hex ? 2 : 1)
            return (1...(hex ? 6 : 7)).contains(digits.count) && digits.allSatisfy { hex ? $0.properties.isASCIIHexDigit : ("0"..."9").contains($0) }
        }
        return body.count >= 2 && body.first.map { $0.properties.isAlphabetic && $0.isASCII } == true
            && body.allSatisfy { $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    /// An attribute value as the browser reads it: entities decoded, then (the URL parser) tabs and line ends removed
    /// and leading and trailing control characters and spaces trimmed.
    static func decoded(_ value: String) -> String {
        var text = value.replacing("&quot;", with: "\"").replacing("&#39;", with: "'").replacing("&lt;", with: "<")
            .replacing("&gt;", with: ">")
        text = text.replacing(/&#([0-9]+);/) { String(UnicodeScalar(UInt32($0.output.1) ?? 0xFFFD).map(Character.init) ?? "?") }
        text = text.replacing("&amp;", with: "&")
        text.unicodeScalars.removeAll { $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(text.unicodeScalars.drop { $0.value <= 0x20 }.reversed().drop { $0.value <= 0x20 }.reversed().map(Character.init))
    }

    static func isAllowedURL(_ url: String, image: Bool) -> Bool {
        guard let scheme = url.firstMatch(of: /^([A-Za-z][A-Za-z0-9+.\-]*):/)?.output.1.lowercased() else { return true }
        return (image ? ["http", "https"] : ["http", "https", "mailto"]).contains(scheme)
    }
}

@Suite struct MarkdownTests {
    @Test(arguments: [
        ("Hello *world*", "<p>Hello <em>world</em></p>"),
        ("**strong** and __also__", "<p><strong>strong</strong> and <strong>also</strong></p>"),
        ("***both***", "<p><em><strong>both</strong></em></p>"),
        ("~~gone~~ and ~one~", "<p><del>gone</del> and ~one~</p>"),
        ("snake_case_name and 2*3*4", "<p>snake_case_name and 2<em>3</em>4</p>"),
        ("*unclosed and **half*", "<p>*unclosed and *<em>half</em></p>"),
        ("# Title #\n## Sub\n###### Six\n####### seven", "<h1>Title</h1>\n<h2>Sub</h2>\n<h6>Six</h6>\n<p>####### seven</p>"),
        ("Big\n===\nSmall\n---", "<h1>Big</h1>\n<h2>Small</h2>"),
        ("one\ntwo\n\nthree", "<p>one\ntwo</p>\n<p>three</p>"),
        ("hard  \nbreak\\\nagain", "<p>hard<br>\nbreak<br>\nagain</p>"),
        ("Use `a < b` and ``x ` y``", "<p>Use <code>a &lt; b</code> and <code>x ` y</code></p>"),
        ("```swift\nlet a = \"<b>\"\n```", "<pre><code class=\"language-swift\">let a = &quot;&lt;b&gt;&quot;\n</code></pre>"),
        ("~~~\nno lang\n\n~~~", "<pre><code>no lang\n\n</code></pre>"),
        ("```\nnever closed", "<pre><code>never closed\n</code></pre>"),
        ("```\" onmouseover=\"x\ncode\n```", "<pre><code>code\n</code></pre>"),
        ("    indented\n      more\n\nafter", "<pre><code>indented\n  more\n</code></pre>\n<p>after</p>"),
        ("> quoted\nlazy\n> > nested", "<blockquote>\n<p>quoted\nlazy</p>\n<blockquote>\n<p>nested</p>\n</blockquote>\n</blockquote>"),
        ("- a\n- b\n  - c\n- d", "<ul>\n<li>a</li>\n<li>b\n<ul>\n<li>c</li>\n</ul></li>\n<li>d</li>\n</ul>"),
        ("1. one\n2. two\n\n3. three", "<ol>\n<li><p>one</p></li>\n<li><p>two</p></li>\n<li><p>three</p></li>\n</ol>"),
        ("7) seven\n8) eight", "<ol start=\"7\">\n<li>seven</li>\n<li>eight</li>\n</ol>"),
        ("- a\n* b", "<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li>\n</ul>"),
        ("text\n- item", "<p>text</p>\n<ul>\n<li>item</li>\n</ul>"),
        ("text\n2. not a list", "<p>text\n2. not a list</p>"),
        ("---\n***\n_ _ _", "<hr>\n<hr>\n<hr>"),
        ("[Keel](https://example.com/a?b=1&c=2 \"The title\")",
         "<p><a href=\"https://example.com/a?b=1&amp;c=2\" title=\"The title\" rel=\"nofollow ugc\">Keel</a></p>"),
        ("[*em* link](/relative/path) [x](<with space>)",
         "<p><a href=\"/relative/path\" rel=\"nofollow ugc\"><em>em</em> link</a> <a href=\"with%20space\" rel=\"nofollow ugc\">x</a></p>"),
        ("[a](https://x.test/(paren)) [b](mailto:a@b.test)",
         "<p><a href=\"https://x.test/(paren)\" rel=\"nofollow ugc\">a</a> <a href=\"mailto:a@b.test\" rel=\"nofollow ugc\">b</a></p>"),
        ("![A cat](/cat.png \"Cat\")", "<p><img src=\"/cat.png\" alt=\"A cat\" title=\"Cat\" loading=\"lazy\"></p>"),
        ("[![badge](/b.svg)](https://ci.test)",
         "<p><a href=\"https://ci.test\" rel=\"nofollow ugc\"><img src=\"/b.svg\" alt=\"badge\" loading=\"lazy\"></a></p>"),
        ("<https://example.com/x> and <someone@example.com>",
         "<p><a href=\"https://example.com/x\" rel=\"nofollow ugc\">https://example.com/x</a> and <a href=\"mailto:someone@example.com\" rel=\"nofollow ugc\">someone@example.com</a></p>"),
        ("[not closed](https://x.test and [brackets] only", "<p>[not closed](https://x.test and [brackets] only</p>"),
        ("\\*not em\\* \\# \\[x\\](y) \\a", "<p>*not em* # [x](y) \\a</p>"),
        ("&copy; &#169; &#xA9; & AT&T &bogus", "<p>&copy; &#169; &#xA9; &amp; AT&amp;T &amp;bogus</p>"),
        ("café — 日本語 🎉 *ünïcode*", "<p>café — 日本語 🎉 <em>ünïcode</em></p>"),
        ("\tTabbed code", "<pre><code>Tabbed code\n</code></pre>"),
        ("a\r\nb\rc", "<p>a\nb\nc</p>"),
        ("", ""),
        ("   \n\n  ", ""),
    ])
    func rendersCommonMark(_ markdown: String, _ html: String) throws {
        #expect(Markdown.html(from: markdown) == html)
        try SafeHTMLChecker.check(Markdown.html(from: markdown))
    }

    @Test(arguments: [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("<div>\n*block html*\n</div>", "<p>&lt;div&gt;\n<em>block html</em>\n&lt;/div&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>x</p>"),
        ("[x](JaVaScRiPt:alert(1))", "<p>x</p>"),
        ("[x](&#106;avascript:alert(1))", "<p>x</p>"),
        ("[x](&#x6A;avascript&colon;alert(1))", "<p>x</p>"),
        ("[x](java&#09;script:alert(1))", "<p>x</p>"),
        ("[x](<java\tscript:alert(1)>)", "<p><a href=\"java%20%20%20script:alert(1)\" rel=\"nofollow ugc\">x</a></p>"),
        ("[x]( data:text/html;base64,PHNjcmlwdD4= )", "<p>x</p>"),
        ("[x](vbscript:msgbox)", "<p>x</p>"),
        ("[x](java\\script:alert(1))", "<p><a href=\"java\\script:alert(1)\" rel=\"nofollow ugc\">x</a></p>"),
        ("![x](javascript:alert(1))", "<p>x</p>"),
        ("![x](mailto:a@b.test)", "<p>x</p>"),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>"),
        ("[x](https://a.test \"t\" onmouseover=\"alert(1)\")", "<p>[x](https://a.test &quot;t&quot; onmouseover=&quot;alert(1)&quot;)</p>"),
        ("[x](https://a.test/\"onmouseover=alert(1))", "<p><a href=\"https://a.test/&quot;onmouseover=alert(1)\" rel=\"nofollow ugc\">x</a></p>"),
        ("![\" onerror=\"alert(1)](/a.png)", "<p><img src=\"/a.png\" alt=\"&quot; onerror=&quot;alert(1)\" loading=\"lazy\"></p>"),
        ("[a [b](https://inner.test) c](https://outer.test)", "<p><a href=\"https://outer.test\" rel=\"nofollow ugc\">a [b](https://inner.test) c</a></p>"),
        ("[<https://inner.test>](https://outer.test)", "<p><a href=\"https://outer.test\" rel=\"nofollow ugc\">&lt;https://inner.test&gt;</a></p>"),
        ("`<script>`", "<p><code>&lt;script&gt;</code></p>"),
        ("```\"><script>alert(1)</script>\nx\n```", "<pre><code>x\n</code></pre>"),
        ("&lt;script&gt;", "<p>&lt;script&gt;</p>"),
        ("a\u{0}b", "<p>a\u{FFFD}b</p>"),
    ])
    func neverLetsMarkupThrough(_ markdown: String, _ html: String) throws {
        #expect(Markdown.html(from: markdown) == html)
        try SafeHTMLChecker.check(Markdown.html(from: markdown))
    }

    /// Inputs that crashed or hung other Swift Markdown renderers.
    @Test(arguments: ["- a\n  ", "\n---\n\n\n", "Line 1\n\n<p\n\nLine 2", "-", "1.", "- \n", ">", "> ", "#", "``", "[", "![", "[]()", "*_*_", "\\"])
    func edgeCasesRenderWithoutTrouble(_ markdown: String) throws {
        try SafeHTMLChecker.check(Markdown.html(from: markdown))
    }

    /// Each is 50,000 characters or more of what makes naive parsers quadratic or recursive; rendering each must finish
    /// (a quadratic stage would not, here) and be well-formed.
    @Test(arguments: [
        String(repeating: "[", count: 50_000), String(repeating: "]", count: 50_000), String(repeating: "[a](", count: 12_500),
        String(repeating: "[](x \"", count: 10_000), String(repeating: "*a", count: 25_000), String(repeating: "**_", count: 17_000),
        String(repeating: "a**b", count: 12_500) + String(repeating: "c*", count: 12_500), String(repeating: "`", count: 50_000),
        (1...400).map { String(repeating: "`", count: $0) + "x" }.joined(), String(repeating: "<a", count: 25_000),
        String(repeating: ">", count: 50_000) + " deep", String(repeating: "> ", count: 25_000) + "x",
        (0..<250).map { String(repeating: " ", count: $0 * 2) + "- item" }.joined(separator: "\n"),
        String(repeating: "- ", count: 25_000) + "x", String(repeating: "1. ", count: 16_000) + "x",
        String(repeating: "(", count: 50_000), String(repeating: "[a](<", count: 10_000), String(repeating: "&#", count: 25_000),
        String(repeating: "\\", count: 50_000), String(repeating: "_a_ ", count: 12_500), String(repeating: "a\n", count: 25_000),
        String(repeating: "> a\n", count: 12_500), String(repeating: "```\n", count: 12_500), String(repeating: "    \n", count: 10_000) + "x",
        String(repeating: "![", count: 25_000) + String(repeating: "](/)", count: 12_500),
    ])
    func pathologicalInputsStayLinearAndWellFormed(_ markdown: String) throws {
        let html = Markdown.html(from: markdown)
        try SafeHTMLChecker.check(html)
        #expect(html.utf8.count < markdown.utf8.count * 8 + 64, "output grows with the input, not faster")
    }

    @Test func nestingStopsAtTheLimit() {
        let html = Markdown.html(from: String(repeating: ">", count: 40) + " deep")
        #expect(html.components(separatedBy: "<blockquote>").count - 1 == Markdown.maximumNesting)
        #expect(html.contains("<p>" + String(repeating: "&gt;", count: 40 - Markdown.maximumNesting) + " deep</p>"))
    }

    /// Random documents built from the characters and fragments Markdown gives meaning to, including hostile URLs.
    @Test func randomDocumentsAreAlwaysSafe() throws {
        let fragments = [
            "*", "**", "_", "__", "~~", "`", "```", "[", "]", "(", ")", "![", "](", "<", ">", "\\", "&", "&amp;", "&#106;", "\"", "'", "\n",
            "\n\n", " ", "  ", "    ", "\t", "# ", "> ", "- ", "1. ", "---", "javascript:", "JavaScript&colon;", "data:", "http://a.test",
            "mailto:x@y.test", "<https://b.test>", "<x@y.test>", "a", "word", "é", "🎉", "\u{0}", "\r", "=", "|", "@", ":", "/",
        ]
        var generator = SplitMix64(seed: 0x4B45_454C)
        for _ in 0..<3_000 {
            let length = Int.random(in: 0...80, using: &generator)
            let markdown = (0..<length).map { _ in fragments.randomElement(using: &generator)! }.joined()
            do {
                try SafeHTMLChecker.check(Markdown.html(from: markdown))
            } catch {
                Issue.record("\(error) for input \(markdown.debugDescription)")
                return
            }
        }
    }
}
