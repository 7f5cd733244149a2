/// How Keel counts and judges text that clients send, one definition for every validator, chosen to match what a JSON
/// Schema says about the same field (and what Django does):
///
/// - **length** is counted in Unicode scalars (code points), as JSON Schema's `maxLength` and Python's `len()` count
///   it, not in grapheme clusters (`"e\u{301}"` is two) nor in UTF-8 bytes;
/// - **blank** means every scalar is whitespace: Unicode's `White_Space`, plus U+001C–U+001F (the information
///   separators, which Python and regex engines count as whitespace): `pattern: '\S'` in a schema is "not blank".
///
/// ```swift
/// if TextRules.isBlank(title) { problems.add("title", "can't be blank") }
/// if TextRules.length(title) > 300 { problems.add("title", "is too long (maximum is 300 characters)") }
/// ```
public enum TextRules {
    /// The length of `text` in Unicode scalars.
    public static func length(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.count
    }

    /// Whether `scalar` is whitespace (`White_Space`, or an information separator U+001C–U+001F).
    public static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// Whether `text` is empty or only whitespace.
    public static func isBlank(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.allSatisfy(isWhitespace)
    }

    /// Whether `text` has any whitespace.
    public static func containsWhitespace(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains(where: isWhitespace)
    }
}
