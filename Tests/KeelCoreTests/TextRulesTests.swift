import Foundation
import KeelCore
import Testing

/// One way to count and judge text, the JSON Schema way (what an OpenAPI document's `maxLength` and not-blank
/// `pattern` say), used by JSON and form input alike.
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

    /// The list is Unicode's `White_Space` (as this Swift runtime has it) plus the four information separators.
    @Test func whitespaceIsWhiteSpacePlusTheInformationSeparators() {
        let disagreements = (UInt32(0)...0x10FFFF).compactMap(Unicode.Scalar.init).filter { scalar in
            TextRules.isWhitespace(scalar) != (scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value))
        }
        #expect(disagreements.isEmpty, "\(disagreements.map { "U+" + String($0.value, radix: 16) })")
    }

    /// The pattern a document says "not blank" with finds a scalar exactly when the server's rule says the text is not
    /// blank (ICU's engine here; the pattern is escapes only, so ECMAScript and Python read it the same way).
    @Test func theNotBlankPatternAgreesWithTheRule() throws {
        #expect(TextRules.notBlankPattern.hasPrefix(#"[^\x09-\x0D\x1C-\x20\x85\xA0\u1680\u2000-\u200A"#))
        let regex = try NSRegularExpression(pattern: TextRules.notBlankPattern)
        func matches(_ text: String) -> Bool {
            regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        let disagreements = (Array(UInt32(0)...0x3100) + [0xFEFF, 0x180E, 0x1F409]).compactMap(Unicode.Scalar.init).filter { scalar in
            matches(String(Character(scalar))) == TextRules.isBlank(String(Character(scalar)))
        }
        #expect(disagreements.isEmpty, "\(disagreements.map { "U+" + String($0.value, radix: 16) })")
        #expect(!matches(" \u{1F}\u{3000}"))
        #expect(matches(" \u{1F}x\u{3000}"))
    }
}
