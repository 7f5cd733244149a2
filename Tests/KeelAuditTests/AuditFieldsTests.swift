import Foundation
@testable import KeelAudit
import Testing

@Suite struct AuditFieldsTests {
    /// The hand-written encoder gives what `JSONDecoder` reads back as the same fields, whatever the text holds, and
    /// the same text `JSONEncoder` with sorted keys gives for plain values.
    @Test func fieldsRoundTripThroughJSONDecoder() throws {
        let texts = ["plain", "quote \" backslash \\ slash /", "tab\tnew\nline\rreturn", "\u{0}\u{1}\u{1F}\u{7F}", "é 🦀 \u{FEFF}start", ""]
        for text in texts {
            let fields: [String: AuditField] = [
                "b": AuditField(before: .text(text), after: .null),
                "a": AuditField(value: .integer(-42)),
                "c": AuditField(changed: true),
                "d": AuditField(before: .real(1.5), after: .boolean(false)),
                "e": AuditField(after: .bytes("00ff")),
                "f": AuditField(after: .sealed("c2VhbGVk")),
                text: AuditField(value: .personal(.text(text))),
            ]
            let encoded = AuditFields.encode(fields)
            #expect(AuditFields.decode(encoded) == fields, "\(encoded)")
            #expect((try? JSONSerialization.jsonObject(with: Data(encoded.utf8))) != nil, "valid JSON: \(encoded)")
        }
        let plain: [String: AuditField] = ["title": AuditField(before: .text("a\"b"), after: .text("c")), "n": AuditField(value: .integer(3))]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(AuditFields.encode(plain) == String(decoding: try encoder.encode(plain), as: UTF8.self))
    }
}
