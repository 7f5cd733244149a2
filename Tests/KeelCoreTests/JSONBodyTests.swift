import Foundation
import KeelCore
import Testing

/// `JSONBody` must write what `JSONEncoder` writes, and fall back to it for what it does not stream.
@Suite struct JSONBodyTests {
    struct Author: Encodable {
        let username: String
        let bio: String?
        let image: String?
        let following: Bool

        enum CodingKeys: String, CodingKey { case username, bio, image, following }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(username, forKey: .username)
            try container.encode(bio, forKey: .bio)  // null stays null
            try container.encode(image, forKey: .image)
            try container.encode(following, forKey: .following)
        }
    }

    struct Article: Encodable {
        let slug: String
        let tagList: [String]
        let favoritesCount: Int
        let ratio: Double
        let small: Float
        let big: UInt64
        let negative: Int8
        let body: String?
        let author: Author
        let nested: [[Int]]
        let scores: [String: Double]
        let maybe: [Int?]
    }

    enum Wrapped: Encodable {
        case value(String)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self { case .value(let text): try container.encode(text) }
        }
    }

    struct Empty: Encodable {}

    /// Opens no container at all.
    struct Silent: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    func same<Value: Encodable>(_ value: Value, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fast = try JSONBody.encode(value)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let foundation = try encoder.encode(value)
        // Parsed and written again with sorted keys: equal documents give equal bytes.
        func canonical(_ data: Data) throws -> Data {
            try JSONSerialization.data(
                withJSONObject: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]), options: [.sortedKeys, .fragmentsAllowed])
        }
        #expect(try canonical(Data(fast)) == (try canonical(foundation)), "\(String(decoding: fast, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test func writesWhatJSONEncoderWrites() throws {
        let article = Article(
            slug: "how-to", tagList: ["dragons", "tr\"aining", "é ✓ 🐉", "a\\b/c", "\u{1}\n\t\r\u{8}\u{C}\u{7F}"],
            favoritesCount: 3, ratio: 0.1, small: 2.5, big: .max, negative: -128, body: nil,
            author: Author(username: "jake", bio: nil, image: "https://x/y.png", following: true),
            nested: [[1, 2], [], [-3]], scores: ["a": 1.5, "b": 2, "c": -1e-7, "d": 1e21], maybe: [1, nil, 3])
        try same(article)
        try same([article, article])
        try same(["article": article])
        try same(Wrapped.value("x"))
        try same(Empty())
        try same([Empty]())
        try same(42)
        try same("plain \u{2028} text")
        try same([2e15, 1e16, -0.0, 0.1, 1.5, 123_456_789.125, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
        try same([Float(1e7), Float(0.1), Float(-2.5)])
    }

    @Test func stringsAreEscapedExactly() throws {
        let text = String(decoding: try JSONBody.encode(["k": "a\"b\\c\n\u{1}\u{2028}/é"]), as: UTF8.self)
        #expect(text == #"{"k":"a\"b\\c\n\u0001\u2028/é"}"#)
        // Runs between escapes are copied whole; other E2 sequences (an em dash, U+2029's neighbours) pass through.
        let paragraphs = "First paragraph — with a dash.\n\nSecond\tone \u{2029}end\u{202A}\r\u{8}\u{C}\u{1F}\\"
        let encoded = String(decoding: try JSONBody.encode([paragraphs]), as: UTF8.self)
        #expect(encoded == #"["First paragraph — with a dash.\n\nSecond\tone \u2029end\#u{202A}\r\b\f\u001f\\"]"#)
        let decoded = try JSONSerialization.jsonObject(with: Data(encoded.utf8)) as? [String]
        #expect(decoded == [paragraphs])
        let list = String(decoding: try JSONBody.encode([1, -20, 300]), as: UTF8.self)
        #expect(list == "[1,-20,300]")
    }

    struct WithDate: Encodable {
        let when: Date
        let link: URL
    }

    struct Nesting: Encodable {
        enum Keys: String, CodingKey { case outer, inner }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
            try nested.encode(1, forKey: .inner)
        }
    }

    struct Wide: Encodable {
        let big: Int128
        let huge: UInt128
    }

    @Test func whatItDoesNotStreamFallsBackToJSONEncoder() throws {
        try same(WithDate(when: Date(timeIntervalSince1970: 1_000), link: URL(string: "https://example.com/a")!))
        try same(Data([1, 2, 3]))
        try same(URL(string: "https://example.com/b")!)
        try same(Wide(big: .min, huge: .max))
        try same(Nesting())
        #expect(String(decoding: try JSONBody.encode(Nesting()), as: UTF8.self) == #"{"outer":{"inner":1}}"#)
        #expect(throws: EncodingError.self) { try JSONBody.encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONBody.encode(Silent()) }  // as JSONEncoder: nothing encoded
    }
}
