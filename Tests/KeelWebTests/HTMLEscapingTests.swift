@testable import KeelWeb
import Testing

@Suite struct HTMLEscapingTests {
    @Test func escapesTheFiveCharactersAndNothingElse() {
        #expect(KeelHTMLContentType.escape(#"<a href="x">Tom & Jerry's</a>"#) == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect(KeelHTMLContentType.escape("plain text, ünïcödé 🐉") == "plain text, ünïcödé 🐉")
        #expect(KeelHTMLContentType.escape("🐉<🐉") == "🐉&lt;🐉", "multi-byte text around an escape stays whole")
        #expect(KeelHTMLContentType.escape("") == "")
        #expect(KeelHTMLContentType.escape("e\u{301}&") == "e\u{301}&amp;")
    }

    /// Every template renders through it, and a parse error still points at the file's own line and column.
    @Test func templatesUseItAndErrorsKeepTheirColumns() throws {
        let set = try TemplateSet.compile(["page": "<p title=\"{{title}}\">{{body}}</p>{{{raw}}}"])
        struct Page { let title: String; let body: String; let raw: String }
        let html = try Templates(set).render("page", Page(title: #"a "quoted" 'title'"#, body: "<b>&</b>", raw: "<i>kept</i>"))
        #expect(html == "<p title=\"a &quot;quoted&quot; &#39;title&#39;\">&lt;b&gt;&amp;&lt;/b&gt;</p><i>kept</i>")
        do {
            _ = try TemplateSet.compile(["broken": "abc {{#open}}"])
            Issue.record("an unclosed section compiled")
        } catch {
            #expect("\(error)".contains("broken.mustache"))
            #expect(!"\(error)".contains("KEEL_HTML"), "the pragma is Keel's business: \(error)")
        }
    }
}
