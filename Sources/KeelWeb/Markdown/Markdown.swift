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
