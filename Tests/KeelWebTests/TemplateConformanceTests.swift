import Foundation
import Mustache
import Testing
@testable import KeelWeb

/// Keel compiles and renders its templates itself (docs/web.md, "What a page costs"). These tests hold it to the
/// Mustache spec's behaviour, case by case, and to swift-mustache, the ecosystem's implementation: the same template
/// and data rendered by both must give the same bytes.
@Suite struct TemplateConformanceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let template: String
        var partials: [String: String] = [:]
        let data: [String: any Sendable]
        let expected: String
        /// Where swift-mustache 2.1.1 departs from the spec (it gives something else), so only the spec is asked.
        var swiftMustacheDiffers = false
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Interpolation
        Case(name: "text alone", template: "Hello, world!\n", data: [:], expected: "Hello, world!\n"),
        Case(name: "a variable", template: "Hello, {{subject}}!", data: ["subject": "world"], expected: "Hello, world!"),
        Case(name: "escaped", template: "{{forbidden}}", data: ["forbidden": #"& " < > '"#], expected: "&amp; &quot; &lt; &gt; &#39;"),
        Case(name: "triple mustache is raw", template: "{{{forbidden}}}", data: ["forbidden": "& \" < >"], expected: "& \" < >"),
        Case(name: "ampersand is raw", template: "{{&forbidden}}", data: ["forbidden": "& \" < >"], expected: "& \" < >"),
        Case(name: "integers and decimals", template: "{{n}} {{d}}", data: ["n": 85, "d": 1.5], expected: "85 1.5"),
        Case(name: "a missing name is empty", template: "I ({{cannot}}) be seen!", data: [:], expected: "I () be seen!"),
        Case(name: "dotted names", template: "{{person.name}} {{a.b.c}}", data: ["person": ["name": "Joe"], "a": ["b": ["c": "deep"]]],
             expected: "Joe deep"),
        Case(name: "a broken chain is empty", template: "[{{a.b.c}}]", data: ["a": ["x": 1]], expected: "[]"),
        Case(name: "a dotted name resolves its first part only outwards", template: "{{#a}}[{{b.c}}]{{/a}}",
             data: ["a": ["b": [String: String]()], "b": ["c": "ERROR"]], expected: "[]"),
        Case(name: "spaces inside the tag", template: "|{{ string }}|{{{ string }}}|{{& string }}|", data: ["string": "---"],
             expected: "|---|---|---|"),
        Case(name: "a variable alone on its line keeps the line", template: "  {{string}}\n", data: ["string": "---"], expected: "  ---\n"),
        // Sections
        Case(name: "true section", template: "\"{{#boolean}}This should be rendered.{{/boolean}}\"", data: ["boolean": true],
             expected: "\"This should be rendered.\""),
        Case(name: "false section", template: "\"{{#boolean}}Not rendered.{{/boolean}}\"", data: ["boolean": false], expected: "\"\""),
        Case(name: "a scope is pushed", template: "{{#context}}Hi {{name}}.{{/context}}", data: ["context": ["name": "Joe"]],
             expected: "Hi Joe."),
        Case(name: "lists repeat", template: "{{#list}}{{item}}{{/list}}", data: ["list": [["item": 1], ["item": 2], ["item": 3]]],
             expected: "123"),
        Case(name: "an empty list is false", template: "\"{{#list}}Yay lists!{{/list}}\"", data: ["list": [String]()], expected: "\"\""),
        Case(name: "the implicit iterator", template: "{{#list}}({{.}}){{/list}}", data: ["list": ["a", "<b>", "c"]],
             expected: "(a)(&lt;b&gt;)(c)"),
        Case(name: "outer names from inside", template: "{{#a}}{{one}}{{#b}}{{one}}{{two}}{{/b}}{{/a}}",
             data: ["a": ["one": 1], "b": ["two": 2]], expected: "112"),
        Case(name: "nested lists", template: "{{#rows}}[{{#cells}}{{.}}{{/cells}}]{{/rows}}",
             data: ["rows": [["cells": ["a", "b"]], ["cells": [String]()]]], expected: "[ab][]"),
        Case(name: "a missing section is false", template: "[{{#missing}}Found key 'missing'!{{/missing}}]", data: [:], expected: "[]"),
        Case(name: "text is true, even empty", template: "{{#s}}yes{{/s}}{{#e}}also{{/e}}", data: ["s": "x", "e": ""], expected: "yesalso"),
        Case(name: "zero is true", template: "{{#n}}{{.}}{{/n}}", data: ["n": 0], expected: "0"),
        Case(name: "standalone section lines", template: "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n", data: ["boolean": true],
             expected: "| This Is\n|\n| A Line\n"),
        Case(name: "indented standalone section lines", template: "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n",
             data: ["boolean": true], expected: "| This Is\n|\n| A Line\n"),
        Case(name: "CRLF standalone", template: "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", data: ["boolean": true], expected: "|\r\n|"),
        Case(name: "standalone without a previous line", template: "  {{#boolean}}\n#{{/boolean}}\n/", data: ["boolean": true],
             expected: "#\n/"),
        Case(name: "standalone without a newline", template: "#{{#boolean}}\n/\n  {{/boolean}}", data: ["boolean": true],
             expected: "#\n/\n"),
        Case(name: "two tags on a line are not standalone", template: " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n",
             data: ["boolean": true], expected: " YES\n GOOD\n"),
        // Inverted sections
        Case(name: "inverted false", template: "\"{{^boolean}}This should be rendered.{{/boolean}}\"", data: ["boolean": false],
             expected: "\"This should be rendered.\""),
        Case(name: "inverted true", template: "\"{{^boolean}}Not.{{/boolean}}\"", data: ["boolean": true], expected: "\"\""),
        Case(name: "inverted empty list and missing", template: "{{^list}}none{{/list}}{{^nope}}!{{/nope}}", data: ["list": [Int]()],
             expected: "none!"),
        Case(name: "inverted list with items", template: "{{^list}}none{{/list}}", data: ["list": [1]], expected: ""),
        // Comments
        Case(name: "inline comment", template: "12345{{! Comment Block! }}67890", data: [:], expected: "1234567890"),
        Case(name: "multiline standalone comment", template: "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n", data: [:],
             expected: "Begin.\nEnd.\n"),
        // Delimiters
        Case(name: "set delimiters", template: "{{=<% %>=}}(<%text%>)", data: ["text": "Hey!"], expected: "(Hey!)"),
        Case(name: "delimiters in sections and back", template: "[{{#section}}{{data}}|{{=| |=}}|data||/section|]|={{ }}=|{{data}}",
             data: ["section": true, "data": "I got interpolated."],
             expected: "[I got interpolated.|I got interpolated.]I got interpolated.", swiftMustacheDiffers: true),
        Case(name: "standalone delimiter tag", template: "Begin.\n{{=@ @=}}\nEnd.\n", data: [:], expected: "Begin.\nEnd.\n"),
        // Partials
        Case(name: "a partial", template: "\"{{>text}}\"", partials: ["text": "from partial"], data: [:], expected: "\"from partial\""),
        Case(name: "a partial sees the context", template: "\"{{>partial}}\"", partials: ["partial": "*{{text}}*"],
             data: ["text": "content"], expected: "\"*content*\""),
        Case(name: "a recursive partial", template: "{{>node}}", partials: ["node": "{{content}}<{{#nodes}}{{>node}}{{/nodes}}>"],
             data: ["content": "X", "nodes": [["content": "Y", "nodes": [[String: String]]()] as [String: any Sendable]]], expected: "X<Y<>>"),
        Case(name: "a standalone partial line", template: "|\n{{>partial}}\n|", partials: ["partial": ">\n>"], data: [:],
             expected: "|\n>\n>|"),
        Case(name: "a standalone partial is indented", template: "\\\n {{>partial}}\n/\n", partials: ["partial": "|\n{{{content}}}\n|\n"],
             data: ["content": "<\n->"], expected: "\\\n |\n <\n->\n |\n/\n", swiftMustacheDiffers: true),
        Case(name: "an inline partial is not indented", template: "  {{data}}  {{> partial}}\n", partials: ["partial": ">\n>"],
             data: ["data": "|"], expected: "  |  >\n>\n"),
        // Inheritance
        Case(name: "a parent's default", template: "{{<parent}}{{/parent}}", partials: ["parent": "{{$ballmer}}peaking{{/ballmer}}"],
             data: [:], expected: "peaking"),
        Case(name: "a child's block", template: "{{<parent}}{{$ballmer}}rehydrated{{/ballmer}}{{/parent}}",
             partials: ["parent": "{{$ballmer}}peaking{{/ballmer}}"], data: [:], expected: "rehydrated"),
        Case(name: "two levels, the child wins", template: "{{<middle}}{{$a}}child{{/a}}{{/middle}}",
             partials: ["middle": "{{<base}}{{$a}}middle{{/a}}{{$b}}mb{{/b}}{{/base}}", "base": "[{{$a}}base{{/a}}|{{$b}}bb{{/b}}]"],
             data: [:], expected: "[child|mb]"),
        Case(name: "blocks see the data", template: "{{<layout}}{{$content}}<p>{{title}}</p>{{/content}}{{/layout}}",
             partials: ["layout": "<main>{{$content}}{{/content}}</main>"], data: ["title": "a & b"], expected: "<main><p>a &amp; b</p></main>"),
        Case(name: "text inside a parent outside blocks is ignored", template: "{{<parent}}ignored{{$b}}kept{{/b}}{{/parent}}",
             partials: ["parent": "<{{$b}}{{/b}}>"], data: [:], expected: "<kept>"),
        Case(name: "a layout on standalone lines", template: "{{<layout}}\n{{$title}}T{{/title}}\n{{$body}}\n<p>{{x}}</p>\n{{/body}}\n{{/layout}}\n",
             partials: ["layout": "<title>{{$title}}{{/title}}</title>\n<body>\n{{$body}}{{/body}}\n</body>\n"], data: ["x": "1"],
             expected: "<title>T</title>\n<body>\n<p>1</p>\n\n</body>\n"),
        // Pragma
        Case(name: "content type text stops escaping", template: "{{a}}{{% CONTENT_TYPE: TEXT}}{{a}}", data: ["a": "<"], expected: "&lt;<"),
    ]

    @Test(arguments: cases)
    func followsTheSpec(_ test: Case) throws {
        let keel = try Self.keelRender(test)
        #expect(keel == test.expected)
    }

    /// The same cases through swift-mustache, where it follows the spec.
    @Test(arguments: cases.filter { !$0.swiftMustacheDiffers })
    func rendersAsSwiftMustacheDoes(_ test: Case) throws {
        #expect(try Self.keelRender(test) == Self.referenceRender(test))
    }

    /// Conduit's real templates, with real-looking data, render byte for byte as swift-mustache renders them (its
    /// copies without Keel's `urlencode(…)`, which it does not have; the data's URL parts need no encoding).
    @Test func conduitsTemplatesRenderAsSwiftMustacheDoes() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/Conduit/Resources/Templates")
        let set = try TemplateSet.load(directory: folder.path)
        let keel: [String: any Sendable] = [
            "csrf_token": "tok&en", "csp_nonce": "n0nce", "request_id": "r1", "user_id": "7", "user_name": "jo",
            "flash": [["level": "success", "message": "Saved & done"]],
        ]
        let article: [String: any Sendable] = [
            "slug": "a-b", "title": "Title <i>", "description": "d \"q\"", "tags": ["x", "y-z"], "author": "jo", "authorImage": "",
            "date": "2026-12-04", "favoritesCount": 3, "favorited": true, "following": false,
        ]
        let models: [String: [String: any Sendable]] = [
            "home": ["signedIn": true, "feed": false, "tag": "y-z", "articles": [article, article], "tags": ["x", "y-z"],
                     "pages": [["number": 1, "current": true, "href": "/"] as [String: any Sendable], ["number": 2, "current": false, "href": "/?page=2"]]],
            "article": ["article": article, "bodyHTML": "<p>hi</p>", "signedIn": true, "mine": true,
                        "comments": [["id": 1, "body": "c <b>", "author": "al", "authorImage": "", "date": "2026-12-04", "mine": true] as [String: any Sendable]]],
        ]
        for (name, model) in models {
            var reference = model
            reference["keel"] = keel
            let templates = Templates(set, strict: false)
            let ours = try templates.render(name, model, keel: keel)
            let theirs = try Self.referenceLibrary(set: folder.path).render(reference, withTemplate: name)
            #expect(ours == theirs, "\(name)")
            #expect(ours.contains("Title &lt;i&gt;"), "\(name): values are escaped")
        }
    }

    /// `{{urlencode(name)}}` percent-encodes a path segment or query value (every byte but RFC 3986's unreserved
    /// characters), so a tag like `a&b c` or a name in any script makes a working link; the result needs no escaping.
    @Test func urlencodeMakesWorkingLinks() throws {
        let set = try TemplateSet.compile([
            "page": #"<a href="/?tag={{urlencode(tag)}}">{{tag}}</a>{{#names}}<a href="/profile/{{urlencode(.)}}">{{.}}</a>{{/names}}[{{urlencode(n)}}][{{urlencode(missing.x)}}]"#,
        ])
        let html = try Templates(set, strict: false).render("page", [
            "tag": "a&b c/d?e#f+g", "names": ["Jürgen", "o'hara~1.x_y-z"], "n": 42,
        ] as [String: any Sendable])
        #expect(html == #"<a href="/?tag=a%26b%20c%2Fd%3Fe%23f%2Bg">a&amp;b c/d?e#f+g</a><a href="/profile/J%C3%BCrgen">Jürgen</a>"#
            + #"<a href="/profile/o%27hara~1.x_y-z">o&#39;hara~1.x_y-z</a>[42][]"#)
        do {
            _ = try TemplateSet.compile(["bad": "{{uppercase(name)}}"])
            Issue.record("an unknown transform compiled")
        } catch {
            #expect(error.description.contains("unknown transform 'uppercase'"), "\(error.description)")
        }
    }

    @Test func aTemplateThatIncludesItselfForeverIsAnError() throws {
        let set = try TemplateSet.compile(["page": "{{>loop}}", "loop": "x{{>loop}}"])
        #expect(throws: TemplateError.self) { try Templates(set).render("page", [String: String]()) }
        do {
            _ = try Templates(set).render("page", [String: String]())
        } catch {
            #expect(error.kind == .tooDeep)
            #expect(error.description.contains("'loop'"), "\(error.description)")
        }
    }

    @Test(arguments: [
        ("{{#a}}open", 1, 1, "'a' is opened here and never closed"),
        ("x\n  {{/a}}", 2, 3, "'{{/a}}' closes nothing"),
        ("{{#a}}\n{{/b}}", 2, 1, "'{{/b}}' closes 'a', opened at 1:1"),
        ("ab {{name", 1, 4, "the tag is not closed"),
        ("{{}}", 1, 1, "a tag without a name"),
        ("é{{a b}}", 1, 2, "'a b' is not a name"),
        ("{{=<%>=}}", 1, 1, "set delimiters"),
        ("{{% NOPE}}", 1, 1, "unknown pragma"),
        ("{{>*dynamic}}", 1, 1, "dynamic partials"),
        ("{{a..b}}", 1, 1, "empty part between dots"),
    ])
    func mistakesSayWhereAndWhat(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        do {
            _ = try TemplateSet.compile(["broken": text])
            Issue.record("\(text) compiled")
        } catch {
            #expect(error.kind == .parse)
            #expect(error.description.hasPrefix("broken.mustache:\(line):\(column): "), "\(error.description)")
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    static func keelRender(_ test: Case) throws -> String {
        let set = try TemplateSet.compile(test.partials.merging(["page": test.template]) { own, _ in own })
        return try Templates(set, strict: false).render("page", test.data)
    }

    static func referenceRender(_ test: Case) throws -> String? {
        var templates = ["page": try MustacheTemplate(string: test.template)]
        for (name, text) in test.partials { templates[name] = try MustacheTemplate(string: text) }
        return MustacheLibrary(templates: templates).render(test.data, withTemplate: "page")
    }

    static func referenceLibrary(set directory: String) throws -> MustacheLibrary {
        var templates: [String: MustacheTemplate] = [:]
        let base = directory + "/"
        for path in FileManager.default.enumerator(atPath: base)?.compactMap({ $0 as? String }) ?? [] where path.hasSuffix(".mustache") {
            let text = try String(contentsOfFile: base + path, encoding: .utf8).replacing(/urlencode\(([^)]*)\)/) { String($0.output.1) }
            templates[String(path.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
        }
        for (name, text) in KeelPartials.all { templates[name] = try MustacheTemplate(string: text) }
        return MustacheLibrary(templates: templates)
    }
}
