@testable import KeelWeb
import Testing

/// Templates escape every `{{value}}` through KeelCore's `HTMLEscaping` (its own tests are in KeelCoreTests).
@Suite struct TemplateEscapingTests {
    /// Every template renders through it, and a parse error still points at the file's own line and column.
    @Test func templatesUseItAndErrorsKeepTheirColumns() throws {
        let set = try TemplateSet.compile(["page": "<p title=\"{{title}}\">{{body}}</p>{{{raw}}}"])
        struct Page { let title: String; let body: String; let raw: String }
        let html = try Templates(set).render("page", Page(title: #"a "quoted" 'title'"#, body: "<b>&</b>", raw: "<i>kept</i>"))
        #expect(html == "<p title=\"a &quot;quoted&quot; &#39;title&#39;\">&lt;b&gt;&amp;&lt;/b&gt;</p><i>kept</i>")
        // The same mistake on line 1 (behind Keel's pragma) and on line 2 (not) is reported at the same column.
        let first = try #require(Self.parseError("abc {{/close}}"))
        let second = try #require(Self.parseError("\nabc {{/close}}"))
        for error in [first, second] {
            #expect(error.message.hasPrefix("broken.mustache:"), "\(error.message)")
            #expect(!error.message.contains("KEEL_HTML"), "the pragma is Keel's business: \(error.message)")
        }
        #expect(first.line == 1 && second.line == 2)
        #expect(first.column == second.column)
    }

    /// Where a template's parse error says it is, and its message.
    static func parseError(_ text: String) -> (line: Int, column: Int, message: String)? {
        guard case .failure(let error) = Result(catching: { () throws(TemplateError) in try TemplateSet.compile(["broken": text]) }) else {
            return nil
        }
        let parts = error.description.split(separator: ":")
        guard parts.count > 2, let line = Int(parts[1]), let column = Int(parts[2]) else { return nil }
        return (line, column, error.description)
    }
}
