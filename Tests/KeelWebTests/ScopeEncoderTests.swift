import Foundation
@testable import KeelWeb
import Testing

/// Encodable page models are read through their own `encode(to:)`, with the same meaning as the reflection path:
/// a `nil` optional is found and empty, a name the model lacks is missing.
@Suite struct ScopeEncoderTests {
    struct Row: Encodable { let title: String; let tags: [String]; let note: String? }
    struct Page: Encodable {
        let rows: [Row]
        let count: Int
        let ratio: Double
        let flag: Bool
        let subtitle: String?
        let errors: [String: [String]]
    }
    /// Not Encodable: rendered by reflection.
    struct Plain { let title: String; let subtitle: String? }

    static func templates() throws -> Templates {
        Templates(try TemplateSet.compile([
            "page": "{{#rows}}[{{title}}:{{#tags}}{{.}},{{/tags}}{{^note}}-{{/note}}{{note}}]{{/rows}} {{count}} {{ratio}} "
                + "{{#flag}}yes{{/flag}}{{^subtitle}}none{{/subtitle}} {{#errors.title}}{{.}}{{/errors.title}}",
            "plain": "{{title}}{{^subtitle}}-{{/subtitle}}",
            "typo": "{{titel}}",
        ]))
    }

    @Test func encodableModelsRenderLikeReflectedOnes() throws {
        let page = Page(rows: [Row(title: "a<b", tags: ["x", "y"], note: nil), Row(title: "c", tags: [], note: "n")], count: 2, ratio: 0.5,
                        flag: true, subtitle: nil, errors: ["title": ["is short"]])
        #expect(try Self.templates().render("page", page) == "[a&lt;b:x,y,-][c:n] 2 0.5 yesnone is short")
        #expect(try Self.templates().render("plain", Plain(title: "t", subtitle: nil)) == "t-")
    }

    /// Numbers of every width, alone and in lists, render as numbers (they reach the encoder through their own
    /// `encode(to:)`, which must not loop), the same as through reflection.
    @Test func numbersOfEveryWidth() throws {
        struct Widths: Encodable { let small: Int8; let big: UInt64; let list: [UInt16]; let floats: [Float]; let maybe: Int32? }
        struct PlainWidths { let small: Int8; let big: UInt64; let list: [UInt16]; let floats: [Float]; let maybe: Int32? }
        let templates = Templates(try TemplateSet.compile(["n": "{{small}} {{big}} {{#list}}{{.}},{{/list}} {{#floats}}{{.}},{{/floats}} {{maybe}}"]))
        let expected = "-8 18446744073709551615 1,2, 0.5,2.0, 7"
        #expect(try templates.render("n", Widths(small: -8, big: .max, list: [1, 2], floats: [0.5, 2], maybe: 7)) == expected)
        #expect(try templates.render("n", PlainWidths(small: -8, big: .max, list: [1, 2], floats: [0.5, 2], maybe: 7)) == expected)
    }

    /// A list keeps its order whatever its elements are: plain values written directly, nested structs, lists and
    /// values written through `superEncoder()` filled in place after the fact; URLs and dates are text.
    @Test func listsKeepTheirOrderWithNestedContainersBetweenPlainValues() throws {
        struct Mixed: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                var items = container.nestedUnkeyedContainer(forKey: .items)
                try items.encode("a")
                var nested = items.nestedContainer(keyedBy: CodingKeys.self)
                try nested.encode("b", forKey: .name)
                try items.encode(3)
                var inner = items.nestedUnkeyedContainer()
                try inner.encode("c")
                try inner.encode("d")
                try "e".encode(to: items.superEncoder())
                try items.encode(true)
                try container.encode([[1, 2], [], [3]], forKey: .grid)
                try container.encode(URL(string: "https://example.com/a?b=c")!, forKey: .link)
            }
            enum CodingKeys: String, CodingKey { case items, name, grid, link }
        }
        let templates = Templates(try TemplateSet.compile([
            "m": "{{#items}}<{{.}}>{{/items}} {{#grid}}[{{#.}}{{.}},{{/.}}]{{/grid}} {{link}}",
        ]))
        #expect(try templates.render("m", Mixed()) == "<a><><3><><e><true> [1,2,][][3,] https://example.com/a?b=c")
        let value = try ScopeEncoder.value(Mixed())
        guard case .scope(let scope) = value, case .list(let items)? = scope["items"] else {
            Issue.record("not a scope with a list: \(value)")
            return
        }
        #expect(items.count == 6)
        guard case .text("a") = items[0], case .scope(let second) = items[1], case .text("b")? = second["name"],
              case .integer(3) = items[2], case .list(let fourth) = items[3], fourth.count == 2,
              case .text("e") = items[4], case .bool(true) = items[5] else {
            Issue.record("out of order or wrongly typed: \(items)")
            return
        }
    }

    /// A model whose own `encode(to:)` throws is a failed render that says so, not a page built some other way.
    @Test func aModelThatFailsToEncodeIsAnError() throws {
        struct Broken: Encodable {
            let title = "t"
            struct Refused: Error {}
            func encode(to encoder: any Encoder) throws { throw Refused() }
        }
        do {
            _ = try Self.templates().render("plain", Broken())
            Issue.record("a model that cannot encode rendered")
        } catch let error as TemplateError {
            #expect(error.kind == .modelEncoding)
            #expect(error.description.contains("Broken failed to encode itself"))
        }
    }

    @Test func aNameTheModelLacksIsStillMissing() {
        #expect(throws: TemplateError.self) { try Self.templates().render("typo", Plain(title: "t", subtitle: nil)) }
        #expect(throws: TemplateError.self) {
            try Self.templates().render("typo", Page(rows: [], count: 0, ratio: 0, flag: false, subtitle: nil, errors: [:]))
        }
    }
}
