public import SQLKit

/// A `LIKE` pattern that matches text literally: the text's own `%`, `_` and `\` are escaped, so a search for `50%_off`
/// finds that text and nothing else. Use it with `ESCAPE '\'` (`escapeClause`), on SQLite and PostgreSQL alike.
///
/// ```swift
/// let pattern = LikePattern.containing(query.lowercased())
/// sql.raw("SELECT id FROM users WHERE LOWER(username) LIKE \(bind: pattern) \(LikePattern.escapeClause)")
/// ```
public enum LikePattern {
    /// The escape character the patterns use.
    public static let escapeCharacter: Character = "\\"
    /// `ESCAPE '\'`, to follow the pattern's bind.
    public static let escapeClause = EscapeClause()

    /// `ESCAPE '\'` as SQL.
    public struct EscapeClause: SQLExpression {
        public func serialize(to serializer: inout SQLSerializer) {
            serializer.write(#"ESCAPE '\'"#)
        }
    }

    /// `text` with `%`, `_` and the escape character escaped.
    public static func literal(_ text: some StringProtocol) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            if character == "%" || character == "_" || character == escapeCharacter { escaped.append(escapeCharacter) }
            escaped.append(character)
        }
        return escaped
    }

    /// A pattern matching any value that contains `text`.
    public static func containing(_ text: some StringProtocol) -> String {
        "%" + literal(text) + "%"
    }
}
