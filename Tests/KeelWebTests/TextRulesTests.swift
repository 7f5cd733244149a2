import Keel
import KeelWeb
import Testing

/// One way to count and judge text, the JSON Schema way (what an OpenAPI document's `maxLength` and `pattern: '\S'`
/// say), used by JSON and form input alike.
@Suite struct TextRulesTests {
    @Test func lengthIsInUnicodeScalars() {
        #expect(TextRules.length("abc") == 3)
        #expect(TextRules.length("e\u{301}") == 2, "a letter and its combining accent are two, as JSON Schema counts")
        #expect(TextRules.length("🐉") == 1, "one scalar, four UTF-8 bytes")
        #expect(TextRules.length("👩‍👩‍👧") == 5, "one grapheme, five scalars")
    }

    @Test func blankMeansOnlyWhitespace() {
        for blank in ["", " ", "\t\n\r", "\u{A0}\u{2003}\u{3000}", "\u{2028}\u{2029}\u{85}", "\u{1C}\u{1F}"] {
            #expect(TextRules.isBlank(blank), "\(blank.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        for text in ["a", " a ", "\u{200B}", "\u{0}", "."] {
            #expect(!TextRules.isBlank(text), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        #expect(TextRules.containsWhitespace("a b") && TextRules.containsWhitespace("a\u{1E}b") && !TextRules.containsWhitespace("a-b"))
    }

    @Test func formFieldsUseTheSameRules() throws {
        var problems = ValidationProblems()
        let form = FormInput(fields: ["title": "\u{1F}\u{A0}", "name": "e\u{301}e\u{301}"])
        #expect(form.string("title", problems: &problems, required: true) == nil)
        #expect(form.string("name", problems: &problems, maxLength: 3) == nil, "four scalars are more than three")
        #expect(problems.messages["title"] == ["can't be blank"])
        #expect(problems.messages["name"] == ["is too long (at most 3 characters)"])
    }
}
