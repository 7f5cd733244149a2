/// How Keel counts and judges text that clients send, one definition for every validator and for the documents that
/// describe them, chosen to match what a JSON Schema says about the same field (and what Django does):
///
/// - **length** is counted in Unicode scalars (code points), as JSON Schema's `maxLength` and Python's `len()` count
///   it, not in grapheme clusters (`"e\u{301}"` is two) nor in UTF-8 bytes;
/// - **whitespace** is the list in ``whitespace``: Unicode's `White_Space` plus U+001C–U+001F (the information
///   separators, which Python counts as whitespace), written out here rather than read from the Unicode tables of the
///   Swift runtime or of a client's regex engine, which differ (`\s` in ECMAScript leaves out U+001C–U+001F and U+0085);
/// - **blank** means empty or every scalar whitespace, and ``notBlankPattern`` says "not blank" to any regex engine: an
///   OpenAPI document derives its `pattern` from it, so a value the document accepts is never refused as blank.
///
/// ```swift
/// if TextRules.isBlank(title) { problems.add("title", "can't be blank") }
/// if TextRules.length(title) > 300 { problems.add("title", "is too long (maximum is 300 characters)") }
/// ```
public enum TextRules {
    /// The whitespace scalars, the one definition.
    public static let whitespace: [ClosedRange<UInt32>] = [
        0x09...0x0D, 0x1C...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ]

    /// A regular expression that finds a scalar that is not whitespace, so a string it matches (unanchored, as JSON
    /// Schema's `pattern` is) is not blank. A character class of explicit escapes, read alike by ECMAScript, Python,
    /// ICU and PCRE: `[^\x09-\x0D\x1C-\x20\x85\xA0\u1680…]`.
    public static let notBlankPattern: String = {
        func escape(_ value: UInt32) -> String {
            let hex = String(value, radix: 16, uppercase: true)
            return value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        let ranges = whitespace.map { $0.lowerBound == $0.upperBound ? escape($0.lowerBound) : escape($0.lowerBound) + "-" + escape($0.upperBound) }
        return "[^" + ranges.joined() + "]"
    }()

    /// The length of `text` in Unicode scalars.
    public static func length(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.count
    }

    /// Whether `scalar` is in ``whitespace``.
    @inline(__always)
    public static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        // Printable ASCII (most of what is judged) is never whitespace: answered without walking the list.
        if value > 0x20 && value < 0x85 { return false }
        return whitespace.contains { $0.contains(value) }
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
