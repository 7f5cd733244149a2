import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// Validating and normalizing what clients send: lengths, tags (trimmed, distinct, sorted) and how tag names are stored.
extension ArticleService {
    /// Separates tag names in `articles.tag_names` (tags cannot contain control characters).
    static let tagSeparator: Character = "\u{1F}"

    /// Tag names as `articles.tag_names` stores them, sorted (so every read presents them sorted without sorting);
    /// `nil` for none.
    static func joinedTagNames(_ tags: [String]) -> String? {
        tags.isEmpty ? nil : sortedTags(tags).joined(separator: String(tagSeparator))
    }

    /// Tags in the order every article presents them: by their UTF-8 bytes, which is code point order, the order of
    /// SQLite's `BINARY` and PostgreSQL's `"C"` collation, so `GET /api/tags` and `tagList` agree
    /// (`["training", "dragons"]` is shown as `["dragons", "training"]`, as RealWorld's own Postman collection expects).
    static func sortedTags(_ tags: [String]) -> [String] {
        tags.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `articles.tag_names` back as a list.
    static func tagList(_ joined: String?) -> [String] {
        // Split on the separator's byte: splitting by `Character` would walk grapheme clusters.
        joined.map { $0.utf8.split(separator: tagSeparatorByte).map { String(Substring($0)) } } ?? []
    }

    static let tagSeparatorByte = tagSeparator.asciiValue!

    /// Length limits of an article's fields, each a 422 naming the field.
    static func check(title: String?, description: String?, body: String?, problems: inout ValidationProblems) {
        if let title, TextRules.length(title) > 300 { problems.add("title", "is too long (maximum is 300 characters)") }
        if let description, TextRules.length(description) > 1000 { problems.add("description", "is too long (maximum is 1000 characters)") }
        if let body, TextRules.length(body) > 500_000 { problems.add("body", "is too long (maximum is 500000 characters)") }
    }

    /// At most 20 tags as sent, each at most 50 characters as sent and without control characters (what the OpenAPI
    /// document says); then trimmed, blank ones dropped, and distinct in the order given.
    static func normalize(tags: [String], problems: inout ValidationProblems) -> [String] {
        if tags.count > 20 { problems.add("tagList", "has more than 20 tags") }
        var seen: Set<String> = []
        var result: [String] = []
        for tag in tags {
            if tag.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.add("tagList", "has a tag with control characters")
            }
            if TextRules.length(tag) > 50 { problems.add("tagList", "has a tag longer than 50 characters") }
            let name = tag.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !TextRules.isBlank(name), !seen.contains(name) else { continue }
            seen.insert(name)
            result.append(name)
        }
        return result
    }
}
