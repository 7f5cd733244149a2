import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// Slugs from titles.
extension ArticleService {
    /// `How to Train Your Dragon` → `how-to-train-your-dragon-k3x9qa`: readable, with a random suffix so it is unique.
    ///
    /// Unicode slugs, like Django's `slugify(value, allow_unicode=True)`: the title is NFKC-normalized (so `ﬁ` is `fi`
    /// and full-width digits are digits) and lower-cased; letters and digits of any script stay, every run of anything
    /// else becomes one dash. `Ünïcødé 标题` → `ünïcødé-标题-k3x9qa`. Clients send such a slug percent-encoded in the
    /// path; Keel decodes path parameters before the lookup. Dropping non-ASCII letters instead (Django's default)
    /// would leave a Chinese or Greek title with nothing but the random suffix.
    static func slug(for title: String) -> String {
        var slug = ""
        var lastWasDash = true
        for scalar in title.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal {
                slug.unicodeScalars.append(scalar)
                lastWasDash = false
            } else if !lastWasDash {
                slug.append("-")
                lastWasDash = true
            }
            if slug.count >= 80 { break }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let suffix = String((0..<6).map { _ in alphabet.randomElement()! })
        return slug.isEmpty ? suffix : "\(slug)-\(suffix)"
    }
}
